import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {RepoService} from '../../src/services/repos.js'
import {ValidationError} from '../../src/errors.js'
import {commitAll, declarativeRepoFiles, git, gitRepo, tempDir, microk8sHookRepo, writeTree} from '../helpers/repos.js'

function service() {
  const home = tempDir('mk8s-home-')
  return {home, repos: join(home, 'repositories'), service: new RepoService({env: {...process.env, MK8S_HOME: home}})}
}

describe('RepoService', () => {
  it('adds a git repository made from the upstream core fixture and counts addons for this architecture', async () => {
    const {dir, names} = microk8sHookRepo('core-addons.yaml')
    const {service: repos} = service()
    const added = await repos.add({name: 'upstream', source: dir})
    expect(added.addons).toBe(names.amd64.length)
    expect(added.source).toMatch(new RegExp(`^${dir}@[0-9a-f]{6}$`))
    const listed = (await repos.list()).repositories
    expect(listed.map((r) => r.name)).toEqual(['core', 'community', 'upstream'])
  })

  it('adds the upstream community fixture too', async () => {
    const {dir, names} = microk8sHookRepo('community-addons.yaml')
    const {service: repos} = service()
    expect((await repos.add({name: 'comm', source: dir})).addons).toBe(names.amd64.length)
  })

  it('refuses an invalid repository with file, field and line, and leaves nothing behind', async () => {
    const files = declarativeRepoFiles()
    files['addons/demo/addon.yaml'] = files['addons/demo/addon.yaml'].replace('type: integer', 'type: float')
    const source = gitRepo(files)
    const {repos, service: repoService} = service()
    const error = (await repoService.add({name: 'bad', source: source}).catch((e: unknown) => e)) as ValidationError
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.message).toContain('addons/demo/addon.yaml:6: options.replicas.type: must be one of')
    expect(readdirSync(repos)).toEqual([])
  })

  it('keeps the existing repository when a --force replacement is invalid', async () => {
    const good = gitRepo(declarativeRepoFiles())
    const bad = gitRepo({'addons.yaml': 'nope: 1\n'})
    const {repos, service: repoService} = service()
    await repoService.add({name: 'r', source: good})
    await expect(repoService.add({name: 'r', source: good})).rejects.toThrow("Error: repository 'r' already exists!")
    await expect(repoService.add({name: 'r', source: bad, force: true})).rejects.toThrow('microk8s-addons: is required')
    expect(readdirSync(repos)).toEqual(['r'])
    expect(existsSync(join(repos, 'r', 'addons', 'demo', 'addon.yaml'))).toBe(true)
  })

  it('checks out --reference', async () => {
    const source = gitRepo(declarativeRepoFiles())
    git(source, 'tag', 'v1')
    writeTree(source, declarativeRepoFiles({}, 'second'))
    commitAll(source, 'second addon replaces the index')
    const {service: repoService} = service()
    expect((await repoService.add({name: 'pinned', source: source, reference: 'v1'})).addons).toBe(1)
    await expect(repoService.update({name: 'pinned'})).rejects.toThrow(
      "Error: repository 'pinned' is pinned to a tag or commit",
    )
  })

  it('updates to a valid commit and rolls back from an invalid one', async () => {
    const source = gitRepo(declarativeRepoFiles())
    const {repos, service: repoService} = service()
    await repoService.add({name: 'r', source: source})
    const first = git(join(repos, 'r'), 'rev-parse', 'HEAD')

    writeTree(source, {
      'addons/demo/addon.yaml': declarativeRepoFiles()['addons/demo/addon.yaml'].replace('1.0.0', '1.1.0'),
    })
    const second = commitAll(source)
    expect(await repoService.update({name: 'r'})).toEqual({from: first, to: second})

    writeTree(source, {'addons/demo/addon.yaml': 'name: demo\n'})
    commitAll(source, 'broken')
    await expect(repoService.update({name: 'r'})).rejects.toThrow(
      /description: is required[\s\S]*Rolling back repository r/,
    )
    expect(git(join(repos, 'r'), 'rev-parse', 'HEAD')).toBe(second)
    expect(git(join(repos, 'r'), 'status', '--porcelain')).toBe('')
  })

  it('refuses to remove or update bundled repositories, and unknown ones', async () => {
    const {service: repoService} = service()
    await expect(repoService.remove({name: 'core'})).rejects.toThrow(
      "Error: built-in repository 'core' cannot be removed",
    )
    await expect(repoService.update({name: 'community'})).rejects.toThrow(
      "Error: built-in repository 'community' cannot be updated",
    )
    await expect(repoService.add({name: 'core', source: '/x'})).rejects.toThrow(
      "Error: built-in repository 'core' cannot be replaced",
    )
    await expect(repoService.remove({name: 'nosuch'})).rejects.toThrow("Error: repository 'nosuch' does not exist")
  })

  it('reports a git failure in one line', async () => {
    const {service: repoService} = service()
    await expect(repoService.add({name: 'r', source: '/does/not/exist'})).rejects.toThrow(
      /^git clone failed: .*does not exist/,
    )
  })

  it('removes a user repository', async () => {
    const {repos, service: repoService} = service()
    await repoService.add({name: 'r', source: gitRepo(declarativeRepoFiles())})
    await repoService.remove({name: 'r'})
    expect(readdirSync(repos)).toEqual([])
  })
})
