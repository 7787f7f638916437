import {execFile} from 'node:child_process'
import {chmodSync, existsSync, readFileSync, readlinkSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterEach, describe, expect, it} from 'vitest'

import {matchesCheckStatus} from '../../src/hooks/check-status.js'
import {HelperServer, serviceName} from '../../src/hooks/helper-server.js'
import {runHook} from '../../src/hooks/runner.js'
import {type SnapTree, hookEnvironment, installedSnap, writeSnapTree} from '../../src/hooks/snap-tree.js'
import {exportContext} from '../../src/kube/kubeconfig.js'
import {ChangeLock, ClusterLock, LOCK_HOLDER_ENV} from '../../src/records/lock.js'
import {mergeNodeArgs} from '../../src/records/applyset.js'
import {leftBehind} from '../../src/services/hook-addons.js'
import {FakeAgents} from '../helpers/fake-agents.js'
import {FakeKubeClient} from '../helpers/fake-kube.js'
import {tempDir, writeTree} from '../helpers/repos.js'

const run = promisify(execFile)
const trees: SnapTree[] = []
afterEach(async () => {
  for (const tree of trees.splice(0)) await tree.remove()
})

/** A program that prints its arguments and KUBECONFIG: stands in for kubectl or helm. */
function echoProgram(name: string): string {
  const dir = tempDir('mk8s-bin-')
  writeTree(dir, {[name]: `#!/usr/bin/env bash\necho "${name} $*"\n`})
  chmodSync(join(dir, name), 0o755)
  return join(dir, name)
}

async function tree(options: {helm?: string; kubectl?: string; nodeArgs?: Map<string, string>; path?: string} = {}) {
  const written = await writeSnapTree({
    arch: 'ppc64le',
    cliArgs: ['--agent-token-file=/t/token'],
    clientConfig: '{"apiVersion":"v1","kind":"Config","current-context":"c"}',
    env: {PATH: options.path ?? '/usr/bin:/bin'},
    helm: options.helm,
    kubectl: options.kubectl,
    nodeArgs: options.nodeArgs ?? new Map([['kube-apiserver', '--allow-privileged=true\n--secure-port 16443\n']]),
  })
  trees.push(written)
  return written
}

/** Runs a bash snippet in the tree's hook environment, utils.sh sourced. */
async function inHook(snap: SnapTree, snippet: string, extra: Record<string, string> = {}) {
  const env = hookEnvironment(snap.paths, {arch: 'ppc64le', env: {PATH: '/usr/bin:/bin'}, extra})
  const script = `set -e\nsource "$SNAP/actions/common/utils.sh"\n${snippet}`
  return run('bash', ['-c', script], {env})
}

describe('the $SNAP tree a hook runs in', () => {
  it('is laid out as a snap is, with the current context and one node’s arguments', async () => {
    const snap = await tree()
    const {SNAP, SNAP_COMMON, SNAP_DATA} = snap.paths
    expect(SNAP).toMatch(/\/snap\/microk8s\/x1$/)
    expect(SNAP_DATA).toMatch(/\/var\/snap\/microk8s\/x1$/)
    expect(SNAP_COMMON).toMatch(/\/var\/snap\/microk8s\/common$/)
    // multus finds the revision through `current`.
    expect(readlinkSync(join(SNAP_DATA, '..', 'current'))).toBe('x1')
    expect(readFileSync(join(SNAP_DATA, 'credentials', 'client.config'), 'utf8')).toContain('"current-context":"c"')
    expect(readFileSync(join(SNAP_DATA, 'args', 'kube-apiserver'), 'utf8')).toContain('--allow-privileged=true')
    for (const dir of ['var/lock', 'opt/cni/bin', 'tmp']) expect(existsSync(join(SNAP_DATA, dir))).toBe(true)
    expect(existsSync(join(SNAP, 'bin', 'sed'))).toBe(true)
  })

  it('gives hooks the snap variables, PATH through the snap first, and the lock to share', async () => {
    const snap = await tree()
    const env = hookEnvironment(snap.paths, {arch: 'ppc64le', env: {PATH: '/usr/bin'}, extra: {[LOCK_HOLDER_ENV]: 'h'}})
    expect(env).toMatchObject({
      MICROK8S_ADDONS_SKIP_LOCK: '1',
      MK8S_LOCK_HOLDER: 'h',
      SNAP_ARCH: 'ppc64el',
      SNAP_NAME: 'microk8s',
      SNAP_REVISION: 'x1',
    })
    expect(env.PATH!.split(':')).toEqual([
      join(snap.paths.SNAP, 'usr/bin'),
      join(snap.paths.SNAP, 'bin'),
      join(snap.paths.SNAP, 'usr/sbin'),
      join(snap.paths.SNAP, 'sbin'),
      '/usr/bin',
    ])
    expect(env.KUBECONFIG).toBe(join(snap.paths.SNAP_DATA, 'credentials', 'client.config'))
  })

  it('runs kubectl and helm with the client config, and says what to install when one is missing', async () => {
    const snap = await tree({helm: echoProgram('helm'), kubectl: echoProgram('kubectl')})
    const config = join(snap.paths.SNAP_DATA, 'credentials', 'client.config')
    const kubectl = await run(join(snap.paths.SNAP, 'microk8s-kubectl.wrapper'), ['get', 'no'])
    expect(kubectl.stdout.trim()).toBe(`kubectl --kubeconfig=${config} get no`)
    const helm = await run(join(snap.paths.SNAP, 'microk8s-helm3.wrapper'), ['list', '-A'])
    expect(helm.stdout.trim()).toBe(`helm --kubeconfig=${config} list -A`)
    // $SNAP/kubectl is the plain program: hooks pass --kubeconfig themselves.
    expect((await run(join(snap.paths.SNAP, 'kubectl'), ['version'])).stdout.trim()).toBe('kubectl version')

    const bare = await tree({path: tempDir('mk8s-empty-path-')})
    const missing = await run(join(bare.paths.SNAP, 'microk8s-helm3.wrapper'), ['list']).catch((error) => error)
    expect(missing.code).toBe(127)
    expect(missing.stderr).toContain('helm is not installed: this hook needs it. Install it, or pass --helm PATH')
  })

  it('refuses a --kubectl that is not an executable', async () => {
    await expect(tree({kubectl: '/nonexistent/kubectl'})).rejects.toThrow(
      '--kubectl /nonexistent/kubectl: no such executable',
    )
  })

  it('implements the utils.sh functions hooks read locally: arch, is_strict, get_opt_in_config, lock files', async () => {
    const snap = await tree()
    const {stdout} = await inHook(
      snap,
      [
        'echo "arch=$(arch)"',
        'is_strict && echo strict || echo classic',
        'echo "priv=$(get_opt_in_config --allow-privileged kube-apiserver)"',
        'echo "port=$(get_opt_in_config --secure-port kube-apiserver)"',
        'echo "none=$(get_opt_in_config --nothing kube-apiserver)"',
        'set_service_not_expected_to_start flanneld; echo "flanneld=$(is_service_expected_to_start flanneld)"',
        'valid_ip 10.0.0.1 && echo valid; valid_ip 10.0.0.300 || echo invalid',
        'run_with_sudo preserve_env touch "$SNAP_DATA/var/tmp/x" && echo touched',
        'echo "name=$(addon_name linkerd:a=b) args=$(addon_arguments linkerd:a=b\\;c=d)"',
      ].join('\n'),
    )
    expect(stdout).toBe(
      [
        'arch=ppc64le',
        'classic',
        'priv=true',
        'port=16443',
        'none=',
        'flanneld=0',
        'valid',
        'invalid',
        'touched',
        'name=linkerd args=a=b c=d',
        '',
      ].join('\n'),
    )
  })

  it('finds MicroK8s when its snap is installed, and takes its paths', async () => {
    const root = tempDir('mk8s-fake-snap-')
    writeTree(root, {'snap/microk8s/x7/microk8s-enable.wrapper': '#!/bin/sh\n'})
    const {symlinkSync} = await import('node:fs')
    symlinkSync('x7', join(root, 'snap/microk8s/current'))
    const paths = await installedSnap({HOME: '/home/u', MK8S_MICROK8S_SNAP: join(root, 'snap/microk8s/current')})
    expect(paths).toEqual({
      SNAP: join(root, 'snap/microk8s/x7'),
      SNAP_COMMON: join(root, 'var/snap/microk8s/common'),
      SNAP_DATA: join(root, 'var/snap/microk8s/x7'),
      SNAP_USER_COMMON: '/home/u/snap/microk8s/common',
      SNAP_USER_DATA: '/home/u/snap/microk8s/x7',
    })
    expect(await installedSnap({MK8S_MICROK8S_SNAP: join(root, 'nowhere')})).toBeUndefined()
  })
})

describe('the helpers utils.sh calls back into mk8s with', () => {
  async function serve(agents: FakeAgents | undefined, snap: SnapTree) {
    const helper = new HelperServer({
      argsDir: join(snap.paths.SNAP_DATA, 'args'),
      client: new FakeKubeClient(),
      fleet: async () => agents?.fleet,
      socket: snap.helper.socket,
      tokenFile: snap.helper.tokenFile,
    })
    await helper.listen()
    return helper
  }

  it('changes every node, restarts, tells agents of node addons, and records what each flag was', async () => {
    const agents = new FakeAgents(['node-1', 'node-2', 'node-3'], {'kube-apiserver': '--allow-privileged=false\n'})
    const snap = await tree()
    const helper = await serve(agents, snap)
    try {
      await inHook(
        snap,
        [
          'refresh_opt_in_config allow-privileged true kube-apiserver',
          'refresh_opt_in_config event-ttl 2h kube-apiserver',
          'skip_opt_in_config secure-port kube-apiserver',
          'restart_service apiserver',
          'nodes_addon multus enable',
          'echo "local=$(get_opt_in_config --allow-privileged kube-apiserver)"',
        ].join('\n'),
      )
    } finally {
      await helper.close()
    }

    for (const node of ['node-1', 'node-2', 'node-3']) {
      expect(agents.args(node, 'kube-apiserver')).toEqual(
        new Map([
          ['--allow-privileged', 'true'],
          ['--event-ttl', '2h'],
        ]),
      )
    }

    expect(agents.restarts.sort()).toEqual(['node-1/kube-apiserver', 'node-2/kube-apiserver', 'node-3/kube-apiserver'])
    expect(agents.addons.sort()).toEqual(['node-1/enable multus', 'node-2/enable multus', 'node-3/enable multus'])
    expect(readFileSync(join(snap.paths.SNAP_DATA, 'args', 'kube-apiserver'), 'utf8')).toBe(
      '--allow-privileged=true\n--event-ttl=2h\n',
    )
    expect(helper.changes).toHaveLength(3)
    expect(helper.changes[0]).toMatchObject({
      applied: true,
      previous: {'--allow-privileged': 'false', '--event-ttl': null, '--secure-port': null},
      removed: ['--secure-port'],
      restart: true,
      service: 'kube-apiserver',
      set: {'--allow-privileged': 'true', '--event-ttl': '2h'},
    })
  })

  it('sends flags a hook wrote into $SNAP_DATA/args itself to every node: before a restart, and when it ends', async () => {
    const agents = new FakeAgents(['node-1', 'node-2'], {'kube-apiserver': '--secure-port=16443\n', kubelet: ''})
    const snap = await tree({
      nodeArgs: new Map([
        ['kube-apiserver', '--secure-port=16443\n'],
        ['kubelet', ''],
      ]),
    })
    const helper = await serve(agents, snap)
    try {
      const {stderr} = await inHook(
        snap,
        [
          // cis-hardening's way: the file edited in place, then the service restarted.
          'sed -i "s/--secure-port=16443/--secure-port=16444/" "$SNAP_DATA/args/kube-apiserver"',
          'echo "--audit-log-maxage=30" >> "$SNAP_DATA/args/kube-apiserver"',
          'restart_service apiserver',
          'refresh_opt_in_local_config max-pods 200 kubelet',
        ].join('\n'),
      )
      expect(stderr).toContain(
        'kube-apiserver: set --secure-port=16444 set --audit-log-maxage=30 (edited in $SNAP_DATA/args)',
      )
      for (const node of ['node-1', 'node-2']) {
        expect(agents.args(node, 'kube-apiserver')).toEqual(
          new Map([
            ['--secure-port', '16444'],
            ['--audit-log-maxage', '30'],
          ]),
        )
        expect(agents.args(node, 'kubelet').get('--max-pods')).toBeUndefined()
      }

      // The kubelet file was edited without a restart: it goes to the nodes when the hook ends.
      expect((await helper.syncDirectEdits()).ok).toBe(true)
      for (const node of ['node-1', 'node-2']) expect(agents.args(node, 'kubelet').get('--max-pods')).toBe('200')
      expect(helper.changes.find((c) => c.node === 'node-1' && c.service === 'kube-apiserver')).toMatchObject({
        previous: {'--audit-log-maxage': null, '--secure-port': '16443'},
        restart: true,
      })
    } finally {
      await helper.close()
    }
  })

  it('fails the helper, naming the node, when a node cannot be changed; and without a token, says how to give one', async () => {
    const agents = new FakeAgents(['node-1', 'node-2'])
    agents.down.add('node-2')
    const snap = await tree()
    const helper = await serve(agents, snap)
    const failed = await inHook(snap, 'refresh_opt_in_config max-pods 200 kubelet').catch((error) => error)
    await helper.close()
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('mk8s: kubelet: set --max-pods=200 on node-2: connection refused')
    expect(failed.stderr).toContain('failed on 1 of 2 nodes')
    expect(agents.args('node-1', 'kubelet').get('--max-pods')).toBe('200')

    const alone = await tree()
    const none = await serve(undefined, alone)
    const refused = await inHook(alone, 'restart_service kubelet').catch((error) => error)
    await none.close()
    expect(refused.stderr).toContain('no agent token to reach the nodes: pass --agent-token-file')
  })

  it('answers only the token of its run', async () => {
    const snap = await tree()
    const helper = await serve(new FakeAgents(['node-1']), snap)
    const {writeFileSync} = await import('node:fs')
    writeFileSync(snap.helper.tokenFile, 'f'.repeat(64))
    const refused = await inHook(snap, 'restart_service kubelet').catch((error) => error)
    await helper.close()
    expect(refused.stderr).toContain('refused: not the token of this run')
  })

  it('names services as the args files do', () => {
    expect(
      ['apiserver', 'proxy', 'kubelet', 'controller-manager', 'microk8s.daemon-containerd'].map(serviceName),
    ).toEqual(['kube-apiserver', 'kube-proxy', 'kubelet', 'kube-controller-manager', 'containerd'])
  })
})

describe('running a hook', () => {
  const hook = (body: string) => {
    const dir = tempDir('mk8s-hook-')
    writeTree(dir, {hook: `#!/usr/bin/env bash\n${body}\n`})
    chmodSync(join(dir, 'hook'), 0o755)
    return {dir, file: join(dir, 'hook')}
  }

  it('returns its exit code and runs it from the addon folder with its arguments', async () => {
    const {dir, file} = hook('[ "$(pwd)" = "$1" ] && [ "$2" = "b c" ] && exit 7; exit 1')
    const result = await runHook(file, [dir, 'b c'], {cwd: dir, env: process.env, stdout: 'stderr', timeoutMs: 10_000})
    expect(result).toEqual({code: 7, timedOut: false})
  })

  it('gives a prompt end of file when there is no terminal', async () => {
    const {dir, file} = hook('if read -r answer; then exit 1; else exit 0; fi')
    const started = Date.now()
    const result = await runHook(file, [], {
      cwd: dir,
      env: process.env,
      stdin: 'none',
      stdout: 'stderr',
      timeoutMs: 10_000,
    })
    expect(result.code).toBe(0)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('stops the hook and everything it started when its time is up', async () => {
    const marker = join(tempDir(), 'child-alive')
    const {dir, file} = hook(`(sleep 3; touch ${marker}) &\nsleep 30`)
    const result = await runHook(file, [], {cwd: dir, env: process.env, stdout: 'stderr', timeoutMs: 300})
    expect(result.timedOut).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 3500))
    // The background child was in the hook's process group: it was stopped with it.
    expect(existsSync(marker)).toBe(false)
  })
})

describe('hook records', () => {
  const entry = (
    node: string,
    set: Record<string, string>,
    previous: Record<string, null | string>,
    removed: string[] = [],
  ) => ({
    address: `${node}:25000`,
    applied: true,
    node,
    previous,
    removed,
    restart: false,
    service: 'kube-apiserver',
    set,
  })

  it('keeps the first value a flag had across runs', () => {
    const first = [entry('n1', {'--a': '1'}, {'--a': null})]
    const second = [entry('n1', {'--a': '2', '--b': 'x'}, {'--a': '1', '--b': 'old'})]
    expect(mergeNodeArgs(first, second)).toEqual([entry('n1', {'--a': '2', '--b': 'x'}, {'--a': null, '--b': 'old'})])
    expect(mergeNodeArgs(first, [entry('n1', {}, {'--a': '1'}, ['--a'])])).toEqual([
      entry('n1', {}, {'--a': null}, ['--a']),
    ])
  })

  it('names what a disable hook left of what its enable hook set, and not what was already so', () => {
    const enabled = [
      entry('n1', {'--a': 'on', '--b': 'same'}, {'--a': null, '--b': 'same'}),
      entry('n2', {'--a': 'on'}, {'--a': null}),
    ]
    expect(leftBehind(enabled, [])).toEqual(['kube-apiserver --a=on (2 nodes)'])
    expect(leftBehind(enabled, [entry('n1', {}, {}, ['--a']), entry('n2', {}, {}, ['--a'])])).toEqual([])
  })
})

describe('check_status', () => {
  it('lists only the kinds the values can name', async () => {
    const {enabledByCheckStatus} = await import('../../src/hooks/check-status.js')
    const client = new FakeKubeClient()
    const listed: string[] = []
    const list = client.list.bind(client)
    client.list = async (apiVersion, kind, options) => {
      listed.push(kind)
      return list(apiVersion, kind, options)
    }

    const entry = (name: string, checkStatus: string) => ({
      architectures: [],
      checkStatus,
      description: '',
      name,
      repository: 'h',
      version: '1',
    })
    await enabledByCheckStatus(client, [entry('a', 'deployment.apps/a'), entry('b', '${SNAP_DATA}/var/lock/b')], {})
    expect(listed).toEqual(['Deployment'])
    listed.length = 0
    await enabledByCheckStatus(client, [entry('c', 'pod/coredns')], {})
    expect(listed.sort()).toEqual(['Pod', 'ReplicaSet'])
    listed.length = 0
    await enabledByCheckStatus(client, [entry('d', 'operator-node-feature-discovery')], {})
    expect(listed).toHaveLength(11)
  })

  it('matches whole names, and a pod by its workload’s name', () => {
    const names = new Set([
      'pod/coredns',
      'pod/coredns-5d78c9869d-2xk9p',
      'deployment.apps/portainer-agent',
      'pod/gateway-proxy',
    ])
    expect(matchesCheckStatus('pod/coredns', names)).toBe(true)
    expect(matchesCheckStatus('deployment.apps/portainer ', names)).toBe(false)
    expect(matchesCheckStatus('pod/gateway', names)).toBe(false)
    expect(matchesCheckStatus('coredns', names)).toBe(true)
    expect(matchesCheckStatus('operator-node-feature-discovery', names)).toBe(false)
  })
})

describe('nested mk8s runs', () => {
  it('share the lease the outer mk8s holds: no wait, no renewal, no release', async () => {
    const client = new FakeKubeClient()
    const outer = new ChangeLock({client, timeoutMs: 1000})
    await outer.hold()
    const previous = process.env[LOCK_HOLDER_ENV]
    process.env[LOCK_HOLDER_ENV] = outer.holder
    try {
      const nested = new ChangeLock({client, timeoutMs: 0})
      await nested.hold()
      expect(nested.holder).toBe(outer.holder)
      await nested.release()
      const lease = [...client.objects.values()].find((o) => o.kind === 'Lease')
      expect((lease?.spec as {holderIdentity: string}).holderIdentity).toBe(outer.holder)
      // Another holder's name does not open the lock.
      process.env[LOCK_HOLDER_ENV] = 'someone-else'
      await expect(new ClusterLock(client).acquire(0)).rejects.toThrow(`held by ${outer.holder}`)
    } finally {
      if (previous === undefined) delete process.env[LOCK_HOLDER_ENV]
      else process.env[LOCK_HOLDER_ENV] = previous
      await outer.release()
    }
  })
})

describe('exportContext', () => {
  it('writes the chosen context alone, with its files made absolute', () => {
    const dir = tempDir('mk8s-kubeconfig-')
    writeTree(dir, {
      config: [
        'apiVersion: v1',
        'kind: Config',
        'current-context: a',
        'clusters:',
        '- {name: ca, cluster: {server: "https://a:6443", certificate-authority: certs/ca.crt}}',
        '- {name: cb, cluster: {server: "https://b:6443"}}',
        'users:',
        '- {name: ua, user: {client-certificate: u.crt, client-key: /abs/u.key}}',
        '- {name: ub, user: {token: secret}}',
        'contexts:',
        '- {name: a, context: {cluster: ca, user: ua}}',
        '- {name: b, context: {cluster: cb, user: ub}}',
        '',
      ].join('\n'),
    })
    const {context, text} = exportContext({context: 'a', kubeconfig: join(dir, 'config')})
    expect(context).toBe('a')
    expect(JSON.parse(text)).toEqual({
      apiVersion: 'v1',
      clusters: [{cluster: {'certificate-authority': join(dir, 'certs/ca.crt'), server: 'https://a:6443'}, name: 'ca'}],
      contexts: [{context: {cluster: 'ca', user: 'ua'}, name: 'a'}],
      'current-context': 'a',
      kind: 'Config',
      users: [{name: 'ua', user: {'client-certificate': join(dir, 'u.crt'), 'client-key': '/abs/u.key'}}],
    })
  })
})

describe('AddonService with hook addons (fake API server and agents)', () => {
  async function setup(hooks: Record<string, {disable: string; enable: string}>) {
    const {AddonCatalog} = await import('../../src/addons/catalog.js')
    const {AddonService} = await import('../../src/services/addon-service.js')
    const {RepoService} = await import('../../src/services/repos.js')
    const {quietReporter} = await import('../../src/services/progress.js')
    const {gitRepo} = await import('../helpers/repos.js')
    const home = tempDir('mk8s-home-')
    const env = {...process.env, MK8S_HOME: home}
    const entries = Object.keys(hooks)
      .map(
        (name) =>
          `    - {name: ${name}, description: d, version: "1.0.0", check_status: "service/${name}", supported_architectures: [amd64]}\n`,
      )
      .join('')
    const files: Record<string, string> = {
      'addons.yaml': `microk8s-addons:\n  description: hooks\n  addons:\n${entries}`,
    }
    for (const [name, {disable, enable}] of Object.entries(hooks)) {
      // A script with its own first line is written as it is.
      files[`addons/${name}/enable`] = enable.startsWith('#!')
        ? enable
        : `#!/usr/bin/env bash\nset -e\nsource "$SNAP/actions/common/utils.sh"\n${enable}\n`
      files[`addons/${name}/disable`] =
        `#!/usr/bin/env bash\nset -e\nsource "$SNAP/actions/common/utils.sh"\n${disable}\n`
    }

    await new RepoService({env}).add({name: 'h', source: gitRepo(files)})
    // A kubeconfig of its own: the hook's client.config is its current context.
    const config = join(tempDir('mk8s-kube-'), 'config')
    writeTree(config.replace(/config$/, ''), {
      config:
        'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n',
    })
    const client = new FakeKubeClient()
    const agents = new FakeAgents(['node-1', 'node-2'], {'kube-apiserver': '--secure-port=16443\n'})
    const notices: string[] = []
    const service = new AddonService({
      catalog: await AddonCatalog.load({arch: 'amd64', env}),
      client,
      cluster: {arch: 'amd64', version: '1.34.0'},
      fleet: async () => agents.fleet,
      // MK8S_MICROK8S_SNAP: the compatibility tree even on a machine where MicroK8s is installed.
      hooks: {connection: {kubeconfig: config}, env: {...process.env, MK8S_MICROK8S_SNAP: '/nonexistent'}, json: true},
      reporter: quietReporter(
        (line) => notices.push(line),
        (line) => notices.push(line),
      ),
    })
    const record = async (name: string) => {
      const {readRecord} = await import('../../src/records/applyset.js')
      return readRecord(client, {name, repository: 'h'})
    }

    return {agents, client, notices, record, service}
  }

  it('records the node arguments a hook set, runs nothing again for the same arguments, and names what disable left', async () => {
    const {agents, notices, record, service} = await setup({
      priv: {
        disable: 'echo disabled',
        enable: 'refresh_opt_in_config allow-privileged true kube-apiserver\nrestart_service apiserver',
      },
    })
    const enabled = await service.enable({timeoutMs: 10_000, tokens: ['h/priv:one']})
    expect(enabled.addons.map((a) => a.status)).toEqual(['enabled'])
    const saved = await record('priv')
    expect(saved).toMatchObject({hook: {args: ['one']}, objects: [], state: 'enabled'})
    expect(saved!.nodeArgs!.map((e) => [e.node, e.set, e.previous, e.restart])).toEqual([
      ['node-1', {'--allow-privileged': 'true'}, {'--allow-privileged': null}, true],
      ['node-2', {'--allow-privileged': 'true'}, {'--allow-privileged': null}, true],
    ])
    expect(agents.restarts.sort()).toEqual(['node-1/kube-apiserver', 'node-2/kube-apiserver'])

    const again = await service.enable({timeoutMs: 10_000, tokens: ['h/priv']})
    expect(again.addons.map((a) => a.status)).toEqual(['already-enabled'])
    expect(agents.restarts).toHaveLength(2)

    const disabled = await service.disable({timeoutMs: 10_000, tokens: ['h/priv']})
    expect(disabled.addons.map((a) => a.status)).toEqual(['disabled'])
    expect(await record('priv')).toBeUndefined()
    expect(notices.join('\n')).toContain(
      'The disable hook of h/priv left node arguments its enable hook set: kube-apiserver --allow-privileged=true (2 nodes)',
    )
  })

  it('records a failed hook with its exit code, and is already enabled when its check_status finds it', async () => {
    const {client, record, service} = await setup({
      bad: {disable: 'true', enable: 'exit 4'},
      nointerpreter: {disable: 'true', enable: '#!/nonexistent/interpreter\n'},
      seen: {disable: 'true', enable: 'exit 9'},
    })
    const failed = await service.enable({timeoutMs: 10_000, tokens: ['h/bad']})
    expect(failed.addons[0]).toMatchObject({
      hook: {args: [], exitCode: 4},
      message: 'The enable hook of h/bad failed with exit code 4',
      status: 'failed',
    })
    expect((await record('bad'))?.hook?.failed).toEqual({
      action: 'enable',
      exitCode: 4,
      message: 'The enable hook of h/bad failed with exit code 4',
    })
    const {changeFailure} = await import('../../src/output/change-result.js')
    expect(changeFailure(failed)?.exitCode).toBe(4)

    // A hook that cannot start at all fails the same way, saying why, and its record says so.
    const unstartable = await service.enable({timeoutMs: 10_000, tokens: ['h/nointerpreter']})
    expect(unstartable.addons[0].message).toMatch(/^The enable hook of h\/nointerpreter failed: .*enable cannot be run/)
    expect((await record('nointerpreter'))?.state).toBe('failed')

    // Enabled by MicroK8s itself (no record): its check_status finds the Service, and the hook is not run.
    await client.apply(
      {apiVersion: 'v1', kind: 'Service', metadata: {name: 'seen', namespace: 'default'}},
      {fieldManager: 't'},
    )
    const seen = await service.enable({timeoutMs: 10_000, tokens: ['h/seen']})
    expect(seen.addons.map((a) => a.status)).toEqual(['already-enabled'])
  })
})
