// The client side of mk8s's hook helpers: utils.sh functions call it, it asks the mk8s that runs the hook (over a
// socket only this user can reach, with the run's token) and prints the answer. Node built-ins only: it starts fast.
import {readFileSync} from 'node:fs'
import {connect} from 'node:net'

const [socket, tokenFile, op, ...args] = process.argv.slice(2)
const connection = connect(socket)
let reply = ''
connection.setEncoding('utf8')
connection.on('connect', () => {
  const token = readFileSync(tokenFile, 'utf8').trim()
  connection.write(`${JSON.stringify({args, op, token})}\n`)
})
connection.on('data', (chunk) => {
  reply += chunk
})
connection.on('end', () => {
  let answer
  try {
    answer = JSON.parse(reply)
  } catch {
    process.stderr.write(`mk8s: no answer from the mk8s running this hook (${op})\n`)
    process.exitCode = 1
    return
  }

  for (const line of answer.lines ?? []) process.stderr.write(`${line}\n`)
  if (!answer.ok) process.stderr.write(`${answer.error}\n`)
  process.exitCode = answer.ok ? 0 : 1
})
connection.on('error', (error) => {
  process.stderr.write(`mk8s: the mk8s running this hook cannot be reached (${error.message})\n`)
  process.exitCode = 1
})
