#!/usr/bin/env node
// node_bench.js - tokens/s of the npm package `agora-token` (pinned to 2.0.6 in
// tests/interop/node/package.json) on the PERF_NOTES.md workload, for `mintlane bench`.
//
//   node bench/peers/node_bench.js [--count N] [--runs R] [--warmup W] [--token 007|006]
//                                  [--module-dir DIR]
//
// 007: RtcTokenBuilder.buildTokenWithUid(appId, cert, channel, uid, role 1, 3600, 3600), the
// package's own builder (a fresh salt per token from Math.random, the clock per call).
// 006: the legacy builder agora-token/src/RtcTokenBuilder.js buildTokenWithUid(..., ts) (not
// exported from index.js). Each run mints N tokens in a plain loop on one thread and is timed
// with process.hrtime.bigint(); W untimed warm-up runs come first (JIT). Prints one JSON object:
//   {"impl": "agora-token", "package_version": "2.0.6", "node": "v20...", "token": "007",
//    "count": N, "runs_tokens_per_s": [...], "token_chars": 207}
// The module is looked up in --module-dir (default: tests/interop/node/node_modules next to
// this repository), then through Node's normal resolution. Exit status 3 when it is missing.
'use strict'

const path = require('path')

function parseArgs(argv) {
    const out = { count: 20000, runs: 5, warmup: 1, token: '007', moduleDir: null }
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]
        const next = () => {
            if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
            return argv[++i]
        }
        if (a === '--count') out.count = parseInt(next(), 10)
        else if (a === '--runs') out.runs = parseInt(next(), 10)
        else if (a === '--warmup') out.warmup = parseInt(next(), 10)
        else if (a === '--token') out.token = next()
        else if (a === '--module-dir') out.moduleDir = next()
        else throw new Error(`unknown argument ${a}`)
    }
    if (!(out.count > 0) || !(out.runs > 0) || !(out.warmup >= 0)) throw new Error('count and runs must be positive')
    if (out.token !== '007' && out.token !== '006') throw new Error('--token is 007 or 006')
    return out
}

function resolvePackage(moduleDir) {
    const dirs = []
    if (moduleDir) dirs.push(moduleDir)
    dirs.push(path.resolve(__dirname, '..', '..', 'tests', 'interop', 'node', 'node_modules'))
    dirs.push(process.cwd())
    for (const d of dirs) {
        try {
            return path.dirname(require.resolve('agora-token/package.json', { paths: [d] }))
        } catch (e) {
            // try the next place
        }
    }
    return null
}

// PERF_NOTES.md workload.
const APP_ID = '970CA35de60c44645bbae8a215061b33'
const APP_CERTIFICATE = '5CFd2fd1755d40ecb72977518be15d3b'
const CHANNEL = '7d72365eb983485397e3e3f9d460bdda'
const UID = 2882341273
const EXPIRE = 3600

function main() {
    let args
    try {
        args = parseArgs(process.argv.slice(2))
    } catch (e) {
        process.stderr.write(`node_bench.js: ${e.message}\n`)
        process.exit(2)
    }
    const root = resolvePackage(args.moduleDir)
    if (!root) {
        process.stderr.write('node_bench.js: npm package agora-token not found ' +
            '(run `python3 tests/interop/peers.py install` or pass --module-dir)\n')
        process.exit(3)
    }
    const version = require(path.join(root, 'package.json')).version
    let mint
    if (args.token === '007') {
        const { RtcTokenBuilder, RtcRole } = require(root)
        mint = () => RtcTokenBuilder.buildTokenWithUid(APP_ID, APP_CERTIFICATE, CHANNEL, UID, RtcRole.PUBLISHER,
            EXPIRE, EXPIRE)
    } else {
        const legacy = require(path.join(root, 'src', 'RtcTokenBuilder.js'))
        // The 006 module logs parse errors with console.log; keep stdout for the result.
        console.log = (...a) => process.stderr.write(a.map(String).join(' ') + '\n')
        const ts = Math.floor(Date.now() / 1000) + EXPIRE
        mint = () => legacy.RtcTokenBuilder.buildTokenWithUid(APP_ID, APP_CERTIFICATE, CHANNEL, UID,
            legacy.Role.PUBLISHER, ts)
    }
    const sample = mint()
    if (typeof sample !== 'string' || !sample.startsWith(args.token)) {
        process.stderr.write(`node_bench.js: unexpected token from agora-token: ${String(sample).slice(0, 40)}\n`)
        process.exit(4)
    }
    let sink = 0
    const once = () => {
        const t0 = process.hrtime.bigint()
        for (let i = 0; i < args.count; i++) sink += mint().length
        const ns = Number(process.hrtime.bigint() - t0)
        return args.count / (ns / 1e9)
    }
    for (let w = 0; w < args.warmup; w++) once()
    const rates = []
    for (let r = 0; r < args.runs; r++) rates.push(once())
    process.stdout.write(JSON.stringify({
        impl: 'agora-token',
        package_version: version,
        node: process.version,
        token: args.token,
        count: args.count,
        runs_tokens_per_s: rates,
        token_chars: sample.length,
        checksum: sink,
    }) + '\n')
}

main()
