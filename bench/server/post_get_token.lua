-- post_get_token.lua - wrk script: POST /getToken for an RTC publisher token (TOKEN_SERVER.md §5).
-- Usage: wrk -t2 -c64 -d10s --latency -s bench/server/post_get_token.lua http://127.0.0.1:8080/getToken
wrk.method = "POST"
wrk.body = '{"tokenType":"rtc","channel":"lobby","role":"publisher","uid":"2882341273","expire":3600}'
wrk.headers["Content-Type"] = "application/json"
