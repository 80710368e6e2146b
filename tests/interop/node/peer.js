#!/usr/bin/env node
// nodepeer: interop peer for mintlane, driving the npm package `agora-token`
// (pinned to 2.0.6 in package.json / package-lock.json) over a JSON-lines
// protocol on stdin/stdout: one request per line, one response per line, in
// order. See tests/interop/PROTOCOL.md for the full protocol.
//
// What is official agora-token code and what is ours
// ---------------------------------------------------
//  * op "parse" (007): `new AccessToken2()` + `from_string(token)` +
//    `verifySignature(certificate)` are the package's. We only read the parsed
//    object's fields (including its private `__signature` / `__signing_info` /
//    service `__*` fields) and render them as JSON.
//  * op "mint", named builders (RtcTokenBuilder, RtmTokenBuilder,
//    ChatTokenBuilder, ApaasTokenBuilder, EducationTokenBuilder,
//    FpaTokenBuilder, ConvoAITokenBuilder, SttTokenBuilder): the real builder
//    method is called. Its AccessToken2 constructor reads
//    `new Date().getTime() / 1000` for issueTs and
//    `Math.floor(Math.random() * 99999999) + 1` for the salt, so for the
//    duration of the call we replace the global `Date` (no-argument
//    construction and Date.now() return issue_ts * 1000 ms) and `Math.random`
//    (returns (salt - 1 + 0.5) / 99999999, which the constructor maps back to
//    exactly `salt`). Only when the requested salt is outside Node's range
//    [1, 99999999] (e.g. 0 or 2^32-1) is the value instead assigned to the
//    AccessToken2 instance's `salt` field just before its own `build()` runs
//    (a wrapper around AccessToken2.prototype.build); the response then says
//    "pinning": "clock+random+salt-field". The wrapper also asserts that
//    exactly one AccessToken2 was built.
//  * op "mint", builder "raw": the package's AccessToken2 / Service*
//    constructors, `add_privilege`, `add_service` and `build()`; issueTs and
//    salt are assigned to the instance fields (the constructor treats
//    issueTs 0 as "now").
//  * op "mint_006" (legacy 006, `agora-token/src/RtcTokenBuilder.js` and
//    `RtmTokenBuilder.js`, not exported from index.js): the 006 AccessToken
//    module draws ONE salt per process at module load
//    (`Math.floor(Math.random() * 0xffffffff)`) and sets
//    ts = floor(new Date() / 1000) + 86400. For every request we drop the 006
//    modules from require's cache and load them again with the same patched
//    `Date` / `Math.random`, then call the real builder.
//  * op "parse_006": the package's 006 `AccessToken#fromString`; the optional
//    signature/CRC check is ours (node:crypto HMAC and the package's crc-32
//    dependency).
//  * payload_hex / content_hex are our own inflate / base64 decode of the
//    token the package produced.
'use strict'

const path = require('path')
const zlib = require('zlib')
const crypto = require('crypto')
const readline = require('readline')

// Keep stdout for the protocol: the 006 parser console.log()s its errors.
const protocolWrite = s => process.stdout.write(s)
console.log = (...a) => process.stderr.write(a.map(String).join(' ') + '\n')
console.info = console.log
console.warn = console.log

let pkgRoot
try {
    pkgRoot = path.dirname(require.resolve('agora-token/package.json'))
} catch (e) {
    process.stderr.write('nodepeer: cannot find the npm package agora-token; run `npm ci` in ' + __dirname + '\n')
    process.exit(3)
}
const PKG_VERSION = require('agora-token/package.json').version
const agora = require('agora-token')
const AT2 = require('agora-token/src/AccessToken2')
const { AccessToken2 } = AT2

const RealDate = Date
const realRandom = Math.random

// ------------------------------------------------------------ helpers

class RequestError extends Error {}

function need(a, k) {
    if (!(k in a)) throw new RequestError(`missing argument "${k}"`)
    return a[k]
}

function needInt(a, k, lo, hi) {
    const v = need(a, k)
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RequestError(`"${k}" must be an integer in [${lo}, ${hi}]`)
    return v
}

function jsonStr(buf) {
    if (typeof buf === 'string') return buf
    const b = Buffer.from(buf)
    const s = b.toString('utf8')
    if (Buffer.from(s, 'utf8').equals(b)) return s
    return { hex: b.toString('hex') }
}

function privList(map) {
    return Object.keys(map || {})
        .map(Number)
        .sort((x, y) => x - y)
        .map(k => [k, map[k]])
}

const SERVICE_NAMES = { 1: 'rtc', 2: 'rtm', 3: 'streaming', 4: 'fpa', 5: 'chat', 6: 'fcdn', 7: 'apaas', 8: 'rtm2', 9: 'convoai', 10: 'stt' }

function serviceJSON(s) {
    const t = s.service_type()
    const o = { type: t, name: SERVICE_NAMES[t] || `unknown-${t}`, privileges: privList(s.__privileges) }
    switch (t) {
        case 1:
            o.channel_name = jsonStr(s.__channel_name)
            o.uid = jsonStr(s.__uid)
            break
        case 3:
        case 6:
            o.channel_name = jsonStr(s.__channel_name)
            o.account = jsonStr(s.__account)
            break
        case 2:
        case 5:
            o.user_id = jsonStr(s.__user_id)
            break
        case 7:
            o.room_uuid = jsonStr(s.__room_uuid)
            o.user_uuid = jsonStr(s.__user_uuid)
            o.role = s.__role // as the package reports it (its parser reads the i16 unsigned)
            break
        case 8: {
            o.user_id = jsonStr(s.__user_id)
            const d = (s.__permissions && s.__permissions.details) || {}
            o.permissions = Object.keys(d)
                .map(Number)
                .sort((x, y) => x - y)
                .map(rt => [
                    rt,
                    Object.keys(d[rt])
                        .map(Number)
                        .sort((x, y) => x - y)
                        .map(pt => [pt, d[rt][pt].map(r => jsonStr(r))])
                ])
            break
        }
        default:
            break
    }
    return o
}

function inflateToken(token) {
    return zlib.inflateSync(Buffer.from(token.substring(3), 'base64'))
}

// Run fn with the clock pinned to issueTs (seconds) and Math.random pinned so
// that floor(random * scale) + offset == salt. Returns fn's result.
function withPinnedClockAndRandom(issueTs, randomValue, fn) {
    const ms = issueTs * 1000
    class PinnedDate extends RealDate {
        constructor(...a) {
            if (a.length === 0) super(ms)
            else super(...a)
        }
        static now() {
            return ms
        }
    }
    global.Date = PinnedDate
    Math.random = () => randomValue
    try {
        return fn()
    } finally {
        global.Date = RealDate
        Math.random = realRandom
    }
}

// ------------------------------------------------------------ 007 builders

function rtm2Permissions(list) {
    const p = new agora.Rtm2Permissions()
    if (!Array.isArray(list)) throw new RequestError('"permissions" must be a list of [resource_type, permission_type, [resources]]')
    for (const e of list) {
        if (!Array.isArray(e) || e.length !== 3 || !Array.isArray(e[2])) throw new RequestError('bad permissions entry ' + JSON.stringify(e))
        p.add(e[0], e[1], e[2])
    }
    return p
}

const opt = (a, k) => a[k] // undefined when absent, so the JS default applies

// canonical builder name -> function(appId, cert, args) calling the real builder
const BUILDERS = {
    'rtc.build_token_with_uid': (id, c, a) =>
        agora.RtcTokenBuilder.buildTokenWithUid(id, c, need(a, 'channel_name'), need(a, 'uid'), need(a, 'role'), need(a, 'token_expire'), opt(a, 'privilege_expire')),
    'rtc.build_token_with_user_account': (id, c, a) =>
        agora.RtcTokenBuilder.buildTokenWithUserAccount(id, c, need(a, 'channel_name'), need(a, 'user_account'), need(a, 'role'), need(a, 'token_expire'), opt(a, 'privilege_expire')),
    'rtc.build_token_with_uid_and_privilege': (id, c, a) =>
        agora.RtcTokenBuilder.buildTokenWithUidAndPrivilege(id, c, need(a, 'channel_name'), need(a, 'uid'), need(a, 'token_expire'),
            need(a, 'join_channel_privilege_expire'), need(a, 'pub_audio_privilege_expire'), need(a, 'pub_video_privilege_expire'), need(a, 'pub_data_stream_privilege_expire')),
    'rtc.build_token_with_user_account_and_privilege': (id, c, a) =>
        agora.RtcTokenBuilder.BuildTokenWithUserAccountAndPrivilege(id, c, need(a, 'channel_name'), need(a, 'user_account'), need(a, 'token_expire'),
            need(a, 'join_channel_privilege_expire'), need(a, 'pub_audio_privilege_expire'), need(a, 'pub_video_privilege_expire'), need(a, 'pub_data_stream_privilege_expire')),
    'rtc.build_token_with_rtm': (id, c, a) =>
        agora.RtcTokenBuilder.buildTokenWithRtm(id, c, need(a, 'channel_name'), need(a, 'user_account'), need(a, 'role'), need(a, 'token_expire'), opt(a, 'privilege_expire')),
    'rtc.build_token_with_rtm2': (id, c, a) =>
        agora.RtcTokenBuilder.buildTokenWithRtm2(id, c, ...rtm2StyleArgs(a)),
    'rtm.build_token': (id, c, a) => agora.RtmTokenBuilder.buildToken(id, c, need(a, 'user_id'), need(a, 'expire')),
    'rtm.build_token_with_permissions': (id, c, a) =>
        agora.RtmTokenBuilder.buildTokenWithPermissions(id, c, need(a, 'user_id'), rtm2Permissions(need(a, 'permissions')), opt(a, 'expire')),
    'chat.build_user_token': (id, c, a) => agora.ChatTokenBuilder.buildUserToken(id, c, need(a, 'user_id'), need(a, 'expire')),
    'chat.build_app_token': (id, c, a) => agora.ChatTokenBuilder.buildAppToken(id, c, need(a, 'expire')),
    'apaas.build_room_user_token': (id, c, a) =>
        agora.ApaasTokenBuilder.buildRoomUserToken(id, c, need(a, 'room_uuid'), need(a, 'user_uuid'), need(a, 'role'), need(a, 'expire')),
    'apaas.build_user_token': (id, c, a) => agora.ApaasTokenBuilder.buildUserToken(id, c, need(a, 'user_uuid'), need(a, 'expire')),
    'apaas.build_app_token': (id, c, a) => agora.ApaasTokenBuilder.buildAppToken(id, c, need(a, 'expire')),
    'education.build_room_user_token': (id, c, a) =>
        agora.EducationTokenBuilder.buildRoomUserToken(id, c, need(a, 'room_uuid'), need(a, 'user_uuid'), need(a, 'role'), need(a, 'expire')),
    'education.build_user_token': (id, c, a) => agora.EducationTokenBuilder.buildUserToken(id, c, need(a, 'user_uuid'), need(a, 'expire')),
    'education.build_app_token': (id, c, a) => agora.EducationTokenBuilder.buildAppToken(id, c, need(a, 'expire')),
    'fpa.build_token': (id, c) => agora.FpaTokenBuilder.buildToken(id, c),
    'convoai.build_token': (id, c, a) => agora.ConvoAITokenBuilder.buildToken(id, c, ...rtm2StyleArgs(a)),
    'stt.build_token': (id, c, a) => agora.SttTokenBuilder.buildToken(id, c, ...rtm2StyleArgs(a))
}

// channel_name, rtc_account, rtc_role, rtc_token_expire, 4 privilege expiries, rtm_user_id, rtm_token_expire
function rtm2StyleArgs(a) {
    return [
        need(a, 'channel_name'), need(a, 'rtc_account'), need(a, 'rtc_role'), need(a, 'rtc_token_expire'),
        need(a, 'join_channel_privilege_expire'), need(a, 'pub_audio_privilege_expire'),
        need(a, 'pub_video_privilege_expire'), need(a, 'pub_data_stream_privilege_expire'),
        need(a, 'rtm_user_id'), need(a, 'rtm_token_expire')
    ]
}

function callBuilderPinned(fn, issueTs, salt) {
    const saltInRange = salt >= 1 && salt <= 99999999
    const randomValue = saltInRange ? (salt - 1 + 0.5) / 99999999 : 0.5
    const origBuild = AccessToken2.prototype.build
    const seen = []
    AccessToken2.prototype.build = function () {
        seen.push({ issueTs: this.issueTs, salt: this.salt })
        if (!saltInRange) this.salt = salt
        return origBuild.call(this)
    }
    let token
    try {
        token = withPinnedClockAndRandom(issueTs, randomValue, fn)
    } finally {
        AccessToken2.prototype.build = origBuild
    }
    if (seen.length !== 1) throw new Error(`expected the builder to build exactly one AccessToken2, saw ${seen.length}`)
    if (seen[0].issueTs !== issueTs) throw new Error(`clock pinning failed: builder used issueTs ${seen[0].issueTs}`)
    if (saltInRange && seen[0].salt !== salt) throw new Error(`random pinning failed: builder drew salt ${seen[0].salt}`)
    return { token, pinning: saltInRange ? 'clock+random' : 'clock+random+salt-field' }
}

// ------------------------------------------------------------ raw

function makeService(s, i) {
    const t = s.type
    if (!Number.isInteger(t) || t < 0 || t > 0xffff) throw new RequestError(`service ${i}: bad type`)
    let svc
    switch (t) {
        case 1: svc = new AT2.ServiceRtc(s.channel_name === undefined ? '' : s.channel_name, s.uid === undefined ? 0 : s.uid); break
        case 2: svc = new AT2.ServiceRtm(s.user_id); break
        case 3: svc = new AT2.ServiceStreaming(s.channel_name, s.account); break
        case 4: svc = new AT2.ServiceFpa(); break
        case 5: svc = new AT2.ServiceChat(s.user_id); break
        case 6: svc = new AT2.ServiceFCdn(s.channel_name, s.account); break
        case 7: svc = new AT2.ServiceApaas(s.room_uuid, s.user_uuid, s.role); break
        case 8: svc = new AT2.ServiceRtm2(s.user_id, rtm2Permissions(s.permissions || [])); break
        case 9: svc = new AT2.ServiceConvoAI(); break
        case 10: svc = new AT2.ServiceStt(); break
        default: svc = new AT2.Service(t) // generic record: u16 type + privilege map only
    }
    for (const p of s.privileges || []) svc.add_privilege(p[0], p[1])
    return svc
}

function mintRaw(appId, cert, a, issueTs, salt) {
    const expire = need(a, 'expire')
    const list = need(a, 'services_in_insertion_order')
    if (!Array.isArray(list)) throw new RequestError('"services_in_insertion_order" must be a list')
    const tok = new AccessToken2(appId, cert, issueTs, expire)
    tok.issueTs = issueTs // constructor maps 0 to "now"
    tok.salt = salt
    list.forEach((s, i) => tok.add_service(makeService(s, i)))
    return tok.build()
}

// ------------------------------------------------------------ ops

function opMint(req) {
    const builder = need(req, 'builder')
    const appId = need(req, 'app_id')
    const cert = need(req, 'certificate')
    const salt = needInt(req, 'salt', 0, 0xffffffff)
    const issueTs = needInt(req, 'issue_ts', 0, 0xffffffff)
    const a = req.args || {}
    let token, pinning
    if (builder === 'raw') {
        token = mintRaw(appId, cert, a, issueTs, salt)
        pinning = 'instance-fields'
    } else if (Object.prototype.hasOwnProperty.call(BUILDERS, builder)) {
        ({ token, pinning } = callBuilderPinned(() => BUILDERS[builder](appId, cert, a), issueTs, salt))
    } else if (builder.startsWith('legacy_')) {
        return { ok: false, error: `builder "${builder}" is 006: use op "mint_006"` }
    } else {
        return { ok: false, error: `unknown builder "${builder}"` }
    }
    if (typeof token !== 'string' || token === '') return { ok: false, error: 'builder returned an empty token (the package rejected the input)' }
    return { ok: true, token, payload_hex: inflateToken(token).toString('hex'), pinning }
}

function opParse(req) {
    const token = need(req, 'token')
    const cert = req.certificate
    const at = new AccessToken2()
    const ok = at.from_string(token)
    if (!ok) return { ok: false, error: 'from_string returned false', services_parsed: at.services.length }
    const sig = at.__signature
    const si = at.__signing_info
    const o = {
        ok: true,
        app_id: jsonStr(at.appId),
        issue_ts: at.issueTs,
        expire: at.expire,
        salt: at.salt,
        services: at.services.map(serviceJSON),
        signature_hex: sig.toString('hex'),
        signing_info_hex: si.toString('hex'),
        payload_hex: Buffer.concat([Buffer.from([sig.length & 0xff, sig.length >> 8]), sig, si]).toString('hex')
    }
    const al = si.length >= 2 ? si.readUInt16LE(0) : -1
    if (al >= 0 && 2 + al + 14 <= si.length) o.service_count = si.readUInt16LE(2 + al + 12)
    o.signature_valid = cert === undefined || cert === null ? null : at.verifySignature(cert)
    return o
}

// ---- legacy 006

const LEGACY_MODULES = ['src/AccessToken.js', 'src/RtcTokenBuilder.js', 'src/RtmTokenBuilder.js'].map(p => path.join(pkgRoot, p))

function loadLegacyFresh() {
    for (const m of LEGACY_MODULES) delete require.cache[m]
    return {
        Rtc: require(LEGACY_MODULES[1]).RtcTokenBuilder,
        Rtm: require(LEGACY_MODULES[2]).RtmTokenBuilder,
        AccessToken: require(LEGACY_MODULES[0]).AccessToken
    }
}

const LEGACY_BUILDERS = {
    'legacy_rtc.build_token_with_uid': (L, id, c, a) =>
        L.Rtc.buildTokenWithUid(id, c, need(a, 'channel_name'), need(a, 'uid'), need(a, 'role'), need(a, 'privilege_expired_ts')),
    'legacy_rtc.build_token_with_account': (L, id, c, a) =>
        L.Rtc.buildTokenWithAccount(id, c, need(a, 'channel_name'), need(a, 'user_account'), need(a, 'role'), need(a, 'privilege_expired_ts')),
    'legacy_rtm.build_token': (L, id, c, a) =>
        L.Rtm.buildToken(id, c, need(a, 'user_account'), a.role === undefined ? 1 : a.role, need(a, 'privilege_expired_ts'))
}

function opMint006(req) {
    const builder = need(req, 'builder')
    const appId = need(req, 'app_id')
    const cert = need(req, 'certificate')
    const salt = needInt(req, 'salt', 0, 0xfffffffe) // Node's 006 salt range: floor(random * 0xffffffff)
    const now = needInt(req, 'issue_ts', 0, 0xffffffff - 86400)
    const a = req.args || {}
    if (!Object.prototype.hasOwnProperty.call(LEGACY_BUILDERS, builder)) return { ok: false, error: `unknown 006 builder "${builder}"` }
    const token = withPinnedClockAndRandom(now, (salt + 0.5) / 0xffffffff, () => {
        const L = loadLegacyFresh()
        return LEGACY_BUILDERS[builder](L, appId, cert, a)
    })
    if (typeof token !== 'string' || token.length < 35) return { ok: false, error: 'builder returned no token' }
    const content = Buffer.from(token.substring(35), 'base64')
    const probe = new (loadLegacyFresh().AccessToken)('', '', '', '')
    probe.fromString(token)
    if (probe.salt !== salt || probe.ts !== now + 86400) throw new Error(`006 pinning failed: salt ${probe.salt}, ts ${probe.ts}`)
    return { ok: true, token, content_hex: content.toString('hex'), pinning: 'clock+random (006 modules reloaded)' }
}

const crc32 = require(require.resolve('crc-32', { paths: [pkgRoot] }))

function opParse006(req) {
    const token = need(req, 'token')
    const { AccessToken } = require(LEGACY_MODULES[0])
    const at = new AccessToken('', '', '', '')
    const ok = typeof token === 'string' && at.fromString(token)
    if (!ok) return { ok: false, error: 'fromString returned false' }
    const o = {
        ok: true,
        app_id: at.appID,
        salt: at.salt,
        ts: at.ts,
        privileges: privList(at.messages),
        crc_channel_name: at.crc_channel_name,
        crc_uid: at.crc_uid,
        signature_hex: Buffer.from(at.signature).toString('hex'),
        message_hex: Buffer.from(at.m).toString('hex')
    }
    // Optional check (ours): needs the certificate plus the channel and uid strings as packed.
    if (req.certificate != null && req.channel_name != null && req.uid != null) {
        const uid = req.uid === 0 ? '' : String(req.uid)
        const msg = Buffer.concat([Buffer.from(at.appID, 'utf8'), Buffer.from(req.channel_name, 'utf8'), Buffer.from(uid, 'utf8'), Buffer.from(at.m)])
        const expect = crypto.createHmac('sha256', req.certificate).update(msg).digest()
        const sig = Buffer.from(at.signature)
        o.crc_channel_name_matches = (crc32.str(req.channel_name) >>> 0) === at.crc_channel_name
        o.crc_uid_matches = (crc32.str(uid) >>> 0) === at.crc_uid
        o.signature_valid = sig.length === expect.length && crypto.timingSafeEqual(sig, expect)
    } else {
        o.signature_valid = null
    }
    return o
}

function opCapabilities() {
    return {
        ok: true,
        peer: 'node',
        ops: ['capabilities', 'mint', 'mint_006', 'parse', 'parse_006', 'version'],
        builders: ['raw', ...Object.keys(BUILDERS)].sort(),
        builders_006: Object.keys(LEGACY_BUILDERS).sort(),
        parse_service_types: Object.keys(AccessToken2.kServices).map(Number).sort((x, y) => x - y),
        mint_service_types: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        legacy_006: true
    }
}

function handle(line) {
    let req
    try {
        req = JSON.parse(line)
    } catch (e) {
        return { ok: false, error: 'invalid JSON: ' + e.message }
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req)) return { ok: false, error: 'request is not a JSON object' }
    let resp
    try {
        switch (req.op) {
            case 'parse': resp = opParse(req); break
            case 'mint': resp = opMint(req); break
            case 'parse_006': resp = opParse006(req); break
            case 'mint_006': resp = opMint006(req); break
            case 'version':
                resp = { ok: true, peer: 'node', package: 'agora-token', version: PKG_VERSION, runtime: process.version, zlib: process.versions.zlib }
                break
            case 'capabilities': resp = opCapabilities(); break
            default: resp = { ok: false, error: `unknown op ${JSON.stringify(req.op)}` }
        }
    } catch (e) {
        resp = { ok: false, error: (e instanceof RequestError ? '' : 'exception: ') + (e && e.message ? e.message : String(e)) }
    }
    if ('id' in req) resp.id = req.id
    return resp
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
rl.on('line', line => {
    if (line.trim() === '') return
    let out
    try {
        out = JSON.stringify(handle(line))
    } catch (e) {
        out = JSON.stringify({ ok: false, error: 'cannot encode response: ' + e.message })
    }
    protocolWrite(out + '\n')
})
