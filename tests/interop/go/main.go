// gopeer: interop peer for mintlane, driving AgoraIO-Community/go-tokenbuilder
// ("GoTB", pinned in go.mod) over a JSON-lines protocol on stdin/stdout.
//
// One request per input line, one response per output line (flushed after
// every line), in order. See tests/interop/PROTOCOL.md for the full protocol.
//
// What is official GoTB code and what is ours
// -------------------------------------------
//   - op "parse": the token is parsed by GoTB's own accesstoken.AccessToken.Parse
//     (official). GoTB has no verify function and does not expose the signature
//     or the signed bytes, so this program base64-decodes and zlib-inflates the
//     token itself (mimicking GoTB: inflate errors are recorded, partial output
//     is kept), reads the u16-prefixed signature, and recomputes the HMAC chain
//     of TOKEN_FORMAT.md §2.7 with crypto/hmac over the raw bytes that follow the
//     signature field, keyed with the issue_ts/salt that GoTB parsed (ours).
//   - op "mint", GoTB builders (rtc/rtm/chat): the official builder function is
//     called (it reads time.Now and math/rand internally), its token is parsed
//     back with GoTB's Parse, the exported IssueTs/Salt fields are overwritten
//     with the requested values and AppCert is set, and GoTB's Build() signs and
//     packs again (official). So the service/privilege choices, the parser and
//     the packer/signer are all GoTB; only the two field assignments are ours.
//   - op "mint", builder "raw": accesstoken.NewAccessToken + GoTB's service
//     constructors + AddPrivilege + AddService + Build (official); IssueTs and
//     Salt are assigned as exported fields (ours).
//   - payload_hex in mint responses is our own inflate of the token GoTB built.
//
// Panics inside GoTB are recovered here (GoTB's own recoverException() is not
// deferred and recovers nothing) and reported as {"ok":false,"error":"panic: ..."}.
package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/AgoraIO-Community/go-tokenbuilder/accesstoken"
	"github.com/AgoraIO-Community/go-tokenbuilder/chatTokenBuilder"
	rtctokenbuilder2 "github.com/AgoraIO-Community/go-tokenbuilder/rtctokenbuilder"
	rtmtokenbuilder2 "github.com/AgoraIO-Community/go-tokenbuilder/rtmtokenbuilder"
)

const gotbModule = "github.com/AgoraIO-Community/go-tokenbuilder"

// ---------------------------------------------------------------- helpers

type obj = map[string]interface{}

type args map[string]json.RawMessage

func (a args) has(k string) bool { _, ok := a[k]; return ok }

func (a args) num(k string) (json.Number, error) {
	raw, ok := a[k]
	if !ok {
		return "", fmt.Errorf("missing argument %q", k)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v interface{}
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("argument %q: %v", k, err)
	}
	n, ok := v.(json.Number)
	if !ok {
		return "", fmt.Errorf("argument %q must be a number", k)
	}
	return n, nil
}

func (a args) intRange(k string, lo, hi int64) (int64, error) {
	n, err := a.num(k)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("argument %q must be an integer", k)
	}
	if i < lo || i > hi {
		return 0, fmt.Errorf("argument %q out of range [%d, %d]", k, lo, hi)
	}
	return i, nil
}

func (a args) u32(k string) (uint32, error) {
	i, err := a.intRange(k, 0, math.MaxUint32)
	return uint32(i), err
}

func (a args) u32Default(k string, def uint32) (uint32, error) {
	if !a.has(k) {
		return def, nil
	}
	return a.u32(k)
}

func (a args) str(k string) (string, error) {
	raw, ok := a[k]
	if !ok {
		return "", fmt.Errorf("missing argument %q", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("argument %q must be a string", k)
	}
	return s, nil
}

func (a args) strDefault(k string, def string) (string, error) {
	if !a.has(k) {
		return def, nil
	}
	return a.str(k)
}

// uidOrAccount converts a JSON number (numeric rule: 0 -> "", else decimal,
// via GoTB's GetUidStr) or a JSON string (as is) into the packed string.
func (a args) uidOrAccount(k string) (string, error) {
	raw, ok := a[k]
	if !ok {
		return "", fmt.Errorf("missing argument %q", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	u, err := a.u32(k)
	if err != nil {
		return "", fmt.Errorf("argument %q must be a string or a u32 number", k)
	}
	return accesstoken.GetUidStr(u), nil
}

func sub(raw json.RawMessage) (args, error) {
	var a args
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	if a == nil {
		a = args{}
	}
	return a, nil
}

// jsonStr renders token bytes as a JSON string, or {"hex": ...} when the bytes
// are not valid UTF-8 (same convention as the golden vectors).
func jsonStr(s string) interface{} {
	if utf8.ValidString(s) {
		return s
	}
	return obj{"hex": hex.EncodeToString([]byte(s))}
}

func privList(m map[uint16]uint32) [][2]uint32 {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	out := make([][2]uint32, 0, len(keys))
	for _, k := range keys {
		out = append(out, [2]uint32{uint32(k), m[uint16(k)]})
	}
	return out
}

// inflate mimics GoTB's decompressZlib (errors ignored, partial output kept)
// but reports the error instead of discarding it.
func inflate(b []byte) ([]byte, string) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err.Error()
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, r)
	if err != nil {
		return out.Bytes(), err.Error()
	}
	return out.Bytes(), ""
}

func le32(v uint32) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, v)
	return b
}

func hmacSHA256(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// signature per TOKEN_FORMAT.md §2.7 (independent of GoTB's getSign).
func sign007(cert string, issueTs, salt uint32, signingInfo []byte) []byte {
	k1 := hmacSHA256(le32(issueTs), []byte(cert))
	k2 := hmacSHA256(le32(salt), k1)
	return hmacSHA256(k2, signingInfo)
}

func serviceName(t uint16) string {
	switch t {
	case 1:
		return "rtc"
	case 2:
		return "rtm"
	case 3:
		return "streaming"
	case 4:
		return "fpa"
	case 5:
		return "chat"
	case 6:
		return "fcdn"
	case 7:
		return "apaas"
	case 8:
		return "rtm2"
	case 9:
		return "convoai"
	case 10:
		return "stt"
	}
	return fmt.Sprintf("unknown-%d", t)
}

func serviceJSON(t uint16, svc accesstoken.IService) obj {
	o := obj{"type": t, "name": serviceName(t)}
	switch s := svc.(type) {
	case *accesstoken.ServiceRtc:
		o["privileges"] = privList(s.Privileges)
		o["channel_name"] = jsonStr(s.ChannelName)
		o["uid"] = jsonStr(s.Uid)
	case *accesstoken.ServiceRtm:
		o["privileges"] = privList(s.Privileges)
		o["user_id"] = jsonStr(s.UserId)
	case *accesstoken.ServiceFpa:
		o["privileges"] = privList(s.Privileges)
	case *accesstoken.ServiceChat:
		o["privileges"] = privList(s.Privileges)
		o["user_id"] = jsonStr(s.UserId)
	case *accesstoken.ServiceEducation:
		o["privileges"] = privList(s.Privileges)
		o["room_uuid"] = jsonStr(s.RoomUuid)
		o["user_uuid"] = jsonStr(s.UserUuid)
		o["role"] = s.Role
	case *accesstoken.Service:
		o["privileges"] = privList(s.Privileges)
	default:
		o["error"] = fmt.Sprintf("unexpected service object %T", svc)
	}
	return o
}

// GoTB keeps services in a map and packs them in this fixed order.
var gotbOrder = []uint16{
	accesstoken.ServiceTypeRtc, accesstoken.ServiceTypeRtm, accesstoken.ServiceTypeFpa,
	accesstoken.ServiceTypeChat, accesstoken.ServiceTypeEducation,
}

// ---------------------------------------------------------------- parse

func opParse(req args) obj {
	token, err := req.str("token")
	if err != nil {
		return fail(err.Error())
	}
	cert, hasCert := "", req.has("certificate")
	if hasCert {
		if string(req["certificate"]) == "null" {
			hasCert = false
		} else if cert, err = req.str("certificate"); err != nil {
			return fail(err.Error())
		}
	}

	// Official parser.
	at := &accesstoken.AccessToken{Services: make(map[uint16]accesstoken.IService)}
	res, perr := at.Parse(token)
	if !res {
		msg := "parse returned false"
		if perr != nil {
			msg += ": " + perr.Error()
		}
		o := fail(msg)
		o["services_parsed"] = len(at.Services)
		return o
	}

	services := []obj{}
	for _, t := range gotbOrder {
		if s, ok := at.Services[t]; ok {
			services = append(services, serviceJSON(t, s))
		}
	}
	o := obj{
		"ok":       true,
		"app_id":   jsonStr(at.AppId),
		"issue_ts": at.IssueTs,
		"expire":   at.Expire,
		"salt":     at.Salt,
		"services": services,
	}

	// Raw bytes for the signature check (ours; GoTB does not expose them).
	payload, zerr := []byte(nil), ""
	if len(token) >= 3 {
		if raw, berr := base64.StdEncoding.DecodeString(token[3:]); berr == nil {
			payload, zerr = inflate(raw)
		} else {
			zerr = "base64: " + berr.Error()
		}
	}
	if zerr != "" {
		o["zlib_error"] = zerr
	}
	o["payload_hex"] = hex.EncodeToString(payload)
	if len(payload) < 2 {
		o["signature_hex"] = nil
		o["signature_valid"] = false
		o["signature_error"] = "payload too short for the signature field"
		return o
	}
	n := int(binary.LittleEndian.Uint16(payload))
	if 2+n > len(payload) {
		o["signature_hex"] = nil
		o["signature_valid"] = false
		o["signature_error"] = "signature field longer than payload"
		return o
	}
	sig := payload[2 : 2+n]
	signingInfo := payload[2+n:]
	o["signature_hex"] = hex.EncodeToString(sig)
	o["signing_info_hex"] = hex.EncodeToString(signingInfo)
	// u16 service count straight from the header (after str app_id + 3*u32).
	if len(signingInfo) >= 2 {
		al := int(binary.LittleEndian.Uint16(signingInfo))
		if 2+al+14 <= len(signingInfo) {
			o["service_count"] = binary.LittleEndian.Uint16(signingInfo[2+al+12:])
		}
	}
	if !hasCert {
		o["signature_valid"] = nil
	} else {
		o["signature_valid"] = hmac.Equal(sig, sign007(cert, at.IssueTs, at.Salt, signingInfo))
	}
	return o
}

// ---------------------------------------------------------------- mint

// repin takes a token produced by an official GoTB builder (real clock and
// salt), parses it with GoTB, overrides IssueTs/Salt and rebuilds with GoTB.
func repin(token string, builderErr error, cert string, issueTs, salt uint32) (string, error) {
	if builderErr != nil {
		return "", fmt.Errorf("builder error: %v", builderErr)
	}
	at := &accesstoken.AccessToken{Services: make(map[uint16]accesstoken.IService)}
	ok, err := at.Parse(token)
	if !ok {
		return "", fmt.Errorf("re-parse of the builder's token failed: %v", err)
	}
	at.AppCert = cert // not in the token; Build() needs it
	at.IssueTs = issueTs
	at.Salt = salt
	return at.Build()
}

type builderFn func(appID, cert string, a args) (string, error)

var notApplicable = errors.New("not-applicable")

var builders = map[string]builderFn{
	// Canonical names (TOKEN_FORMAT/vectors §6). GoTB's RTC builders take ONE
	// expire for the token and the privileges, so the canonical RTC builders
	// are only applicable when privilege_expire == token_expire.
	"rtc.build_token_with_uid": func(appID, cert string, a args) (string, error) {
		ch, err := a.str("channel_name")
		if err != nil {
			return "", err
		}
		uid, err := a.u32("uid")
		if err != nil {
			return "", err
		}
		role, err := a.intRange("role", 0, math.MaxUint16)
		if err != nil {
			return "", err
		}
		te, err := a.u32("token_expire")
		if err != nil {
			return "", err
		}
		pe, err := a.u32Default("privilege_expire", 0)
		if err != nil {
			return "", err
		}
		if pe != te {
			return "", fmt.Errorf("%w: GoTB's BuildTokenWithUid uses one expire for token and privileges (token_expire=%d, privilege_expire=%d)", notApplicable, te, pe)
		}
		return rtctokenbuilder2.BuildTokenWithUid(appID, cert, ch, uid, rtctokenbuilder2.Role(role), te)
	},
	"rtc.build_token_with_user_account": func(appID, cert string, a args) (string, error) {
		ch, err := a.str("channel_name")
		if err != nil {
			return "", err
		}
		acct, err := a.str("user_account")
		if err != nil {
			return "", err
		}
		role, err := a.intRange("role", 0, math.MaxUint16)
		if err != nil {
			return "", err
		}
		te, err := a.u32("token_expire")
		if err != nil {
			return "", err
		}
		pe, err := a.u32Default("privilege_expire", 0)
		if err != nil {
			return "", err
		}
		if pe != te {
			return "", fmt.Errorf("%w: GoTB's BuildTokenWithAccount uses one expire for token and privileges (token_expire=%d, privilege_expire=%d)", notApplicable, te, pe)
		}
		return rtctokenbuilder2.BuildTokenWithAccount(appID, cert, ch, acct, rtctokenbuilder2.Role(role), te)
	},
	"rtm.build_token": func(appID, cert string, a args) (string, error) {
		uid, err := a.str("user_id")
		if err != nil {
			return "", err
		}
		e, err := a.u32("expire")
		if err != nil {
			return "", err
		}
		return rtmtokenbuilder2.BuildToken(appID, cert, uid, e, "")
	},
	"chat.build_user_token": func(appID, cert string, a args) (string, error) {
		uid, err := a.str("user_id")
		if err != nil {
			return "", err
		}
		e, err := a.u32("expire")
		if err != nil {
			return "", err
		}
		return chatTokenBuilder.BuildChatUserToken(appID, cert, uid, e)
	},
	"chat.build_app_token": func(appID, cert string, a args) (string, error) {
		e, err := a.u32("expire")
		if err != nil {
			return "", err
		}
		return chatTokenBuilder.BuildChatAppToken(appID, cert, e)
	},
	// GoTB-native names with GoTB's own argument lists.
	"gotb.rtc.build_token_with_uid": func(appID, cert string, a args) (string, error) {
		ch, err := a.str("channel_name")
		if err != nil {
			return "", err
		}
		uid, err := a.u32("uid")
		if err != nil {
			return "", err
		}
		role, err := a.intRange("role", 0, math.MaxUint16)
		if err != nil {
			return "", err
		}
		e, err := a.u32("expire")
		if err != nil {
			return "", err
		}
		return rtctokenbuilder2.BuildTokenWithUid(appID, cert, ch, uid, rtctokenbuilder2.Role(role), e)
	},
	"gotb.rtc.build_token_with_account": func(appID, cert string, a args) (string, error) {
		ch, err := a.str("channel_name")
		if err != nil {
			return "", err
		}
		acct, err := a.str("account")
		if err != nil {
			return "", err
		}
		role, err := a.intRange("role", 0, math.MaxUint16)
		if err != nil {
			return "", err
		}
		e, err := a.u32("expire")
		if err != nil {
			return "", err
		}
		return rtctokenbuilder2.BuildTokenWithAccount(appID, cert, ch, acct, rtctokenbuilder2.Role(role), e)
	},
	"gotb.rtm.build_token": func(appID, cert string, a args) (string, error) {
		uid, err := a.str("user_id")
		if err != nil {
			return "", err
		}
		e, err := a.u32("expire")
		if err != nil {
			return "", err
		}
		stream, err := a.strDefault("stream_name", "")
		if err != nil {
			return "", err
		}
		return rtmtokenbuilder2.BuildToken(appID, cert, uid, e, stream)
	},
	"gotb.chat.build_user_token": func(appID, cert string, a args) (string, error) {
		uid, err := a.str("user_id")
		if err != nil {
			return "", err
		}
		e, err := a.u32("expire")
		if err != nil {
			return "", err
		}
		return chatTokenBuilder.BuildChatUserToken(appID, cert, uid, e)
	},
	"gotb.chat.build_app_token": func(appID, cert string, a args) (string, error) {
		e, err := a.u32("expire")
		if err != nil {
			return "", err
		}
		return chatTokenBuilder.BuildChatAppToken(appID, cert, e)
	},
}

// Alias used by the vectors' equivalent_builder field.
func init() {
	builders["go_community.rtm.build_token_with_stream"] = builders["gotb.rtm.build_token"]
}

// Builders of the other references that GoTB does not have.
var knownButMissing = map[string]bool{
	"rtc.build_token_with_uid_and_privilege": true, "rtc.build_token_with_user_account_and_privilege": true,
	"rtc.build_token_with_rtm": true, "rtc.build_token_with_rtm2": true,
	"rtm.build_token_with_permissions": true,
	"apaas.build_room_user_token":      true, "apaas.build_user_token": true, "apaas.build_app_token": true,
	"education.build_room_user_token": true, "education.build_user_token": true, "education.build_app_token": true,
	"fpa.build_token": true, "convoai.build_token": true, "stt.build_token": true,
	"legacy_rtc.build_token_with_uid": true, "legacy_rtc.build_token_with_account": true, "legacy_rtm.build_token": true,
}

// raw: GoTB low-level API. GoTB semantics apply: one service per type (the
// last one added wins) and only types 1, 2, 4, 5, 7 exist.
func mintRaw(appID, cert string, a args, issueTs, salt uint32) (string, []string, error) {
	expire, err := a.u32("expire")
	if err != nil {
		return "", nil, err
	}
	var list []json.RawMessage
	if raw, ok := a["services_in_insertion_order"]; ok {
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", nil, fmt.Errorf("services_in_insertion_order: %v", err)
		}
	} else {
		return "", nil, errors.New("missing argument \"services_in_insertion_order\"")
	}
	at := accesstoken.NewAccessToken(appID, cert, expire)
	at.IssueTs = issueTs
	at.Salt = salt
	var notes []string
	seen := map[int64]bool{}
	for i, rawSvc := range list {
		s, err := sub(rawSvc)
		if err != nil {
			return "", nil, fmt.Errorf("service %d: %v", i, err)
		}
		t, err := s.intRange("type", 0, math.MaxUint16)
		if err != nil {
			return "", nil, fmt.Errorf("service %d: %v", i, err)
		}
		var svc accesstoken.IService
		var base *accesstoken.Service
		switch t {
		case accesstoken.ServiceTypeRtc:
			ch, err := s.strDefault("channel_name", "")
			if err != nil {
				return "", nil, err
			}
			uid := ""
			if s.has("uid") {
				if uid, err = s.uidOrAccount("uid"); err != nil {
					return "", nil, err
				}
			}
			x := accesstoken.NewServiceRtc(ch, uid)
			svc, base = x, x.Service
		case accesstoken.ServiceTypeRtm:
			u, err := s.strDefault("user_id", "")
			if err != nil {
				return "", nil, err
			}
			x := accesstoken.NewServiceRtm(u)
			svc, base = x, x.Service
		case accesstoken.ServiceTypeFpa:
			x := accesstoken.NewServiceFpa()
			svc, base = x, x.Service
		case accesstoken.ServiceTypeChat:
			u, err := s.strDefault("user_id", "")
			if err != nil {
				return "", nil, err
			}
			x := accesstoken.NewServiceChat(u)
			svc, base = x, x.Service
		case accesstoken.ServiceTypeEducation:
			room, err := s.strDefault("room_uuid", "")
			if err != nil {
				return "", nil, err
			}
			user, err := s.strDefault("user_uuid", "")
			if err != nil {
				return "", nil, err
			}
			role := int64(-1)
			if s.has("role") {
				if role, err = s.intRange("role", math.MinInt16, math.MaxInt16); err != nil {
					return "", nil, err
				}
			}
			x := accesstoken.NewServiceEducation(room, user, int16(role))
			svc, base = x, x.Service
		default:
			return "", nil, fmt.Errorf("%w: GoTB has no service type %d (it knows 1, 2, 4, 5, 7)", notApplicable, t)
		}
		var privs [][2]int64
		if raw, ok := s["privileges"]; ok {
			if err := json.Unmarshal(raw, &privs); err != nil {
				return "", nil, fmt.Errorf("service %d privileges: %v", i, err)
			}
		}
		for _, p := range privs {
			if p[0] < 0 || p[0] > math.MaxUint16 || p[1] < 0 || p[1] > math.MaxUint32 {
				return "", nil, fmt.Errorf("service %d: privilege out of range", i)
			}
			base.AddPrivilege(uint16(p[0]), uint32(p[1]))
		}
		if seen[t] {
			notes = append(notes, fmt.Sprintf("service %d (type %d) replaced an earlier service of the same type (GoTB keeps one per type)", i, t))
		}
		seen[t] = true
		at.AddService(svc)
	}
	tok, err := at.Build()
	return tok, notes, err
}

func opMint(req args) obj {
	builder, err := req.str("builder")
	if err != nil {
		return fail(err.Error())
	}
	appID, err := req.str("app_id")
	if err != nil {
		return fail(err.Error())
	}
	cert, err := req.str("certificate")
	if err != nil {
		return fail(err.Error())
	}
	salt, err := req.u32("salt")
	if err != nil {
		return fail(err.Error())
	}
	issueTs, err := req.u32("issue_ts")
	if err != nil {
		return fail(err.Error())
	}
	a := args{}
	if raw, ok := req["args"]; ok {
		if a, err = sub(raw); err != nil {
			return fail("args: " + err.Error())
		}
	}

	var token string
	var notes []string
	method := ""
	if builder == "raw" {
		token, notes, err = mintRaw(appID, cert, a, issueTs, salt)
		method = "NewAccessToken+AddService+Build, IssueTs/Salt fields assigned"
	} else if fn, ok := builders[builder]; ok {
		var tok string
		tok, err = fn(appID, cert, a)
		if err == nil || !errors.Is(err, notApplicable) {
			token, err = repin(tok, err, cert, issueTs, salt)
		}
		method = "official builder, re-parsed with GoTB Parse, IssueTs/Salt overridden, GoTB Build"
	} else if knownButMissing[builder] {
		return fail(fmt.Sprintf("not-applicable: GoTB %s has no builder %q", gotbVersion(), builder))
	} else {
		return fail(fmt.Sprintf("unknown builder %q", builder))
	}
	if err != nil {
		return fail(err.Error())
	}
	if token == "" {
		return fail("GoTB returned an empty token")
	}
	raw, err := base64.StdEncoding.DecodeString(token[3:])
	if err != nil {
		return fail("own base64 decode of GoTB token failed: " + err.Error())
	}
	payload, zerr := inflate(raw)
	if zerr != "" {
		return fail("own inflate of GoTB token failed: " + zerr)
	}
	o := obj{"ok": true, "token": token, "payload_hex": hex.EncodeToString(payload), "method": method}
	if len(notes) > 0 {
		o["notes"] = notes
	}
	return o
}

// ---------------------------------------------------------------- misc ops

func gotbVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == gotbModule {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

func opVersion() obj {
	return obj{"ok": true, "peer": "go", "package": gotbModule, "version": gotbVersion(), "runtime": runtime.Version()}
}

func opCapabilities() obj {
	names := []string{"raw"}
	for k := range builders {
		names = append(names, k)
	}
	sort.Strings(names)
	return obj{
		"ok":                  true,
		"peer":                "go",
		"ops":                 []string{"capabilities", "mint", "parse", "version"},
		"builders":            names,
		"parse_service_types": []int{1, 2, 4, 5, 7},
		"mint_service_types":  []int{1, 2, 4, 5, 7},
		"legacy_006":          false,
	}
}

func fail(msg string) obj { return obj{"ok": false, "error": msg} }

func handle(line []byte) (resp obj) {
	var id json.RawMessage
	defer func() {
		if r := recover(); r != nil {
			resp = fail(fmt.Sprintf("panic: %v", r))
		}
		if id != nil {
			resp["id"] = id
		}
	}()
	var req args
	if err := json.Unmarshal(line, &req); err != nil || req == nil {
		msg := "request is not a JSON object"
		if err != nil {
			msg = "invalid JSON: " + err.Error()
		}
		return fail(msg)
	}
	id = req["id"]
	op, err := req.str("op")
	if err != nil {
		return fail(err.Error())
	}
	switch op {
	case "parse":
		return opParse(req)
	case "mint":
		return opMint(req)
	case "version":
		return opVersion()
	case "capabilities":
		return opCapabilities()
	case "parse_006", "mint_006":
		return fail(fmt.Sprintf("unsupported op %q: GoTB %s has no 006 (AccessToken) API", op, gotbVersion()))
	default:
		return fail(fmt.Sprintf("unknown op %q", op))
	}
}

func main() {
	// Keep the protocol stream clean: anything the library prints goes to stderr.
	out := bufio.NewWriter(os.Stdout)
	os.Stdout = os.Stderr

	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 {
			resp := handle(trimmed)
			if e := enc.Encode(resp); e != nil {
				b, _ := json.Marshal(fail("cannot encode response: " + e.Error()))
				out.Write(append(b, '\n'))
			}
			out.Flush()
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, "gopeer: read error:", err)
			}
			return
		}
	}
}
