#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the libFuzzer targets into tests/fuzz/corpus/<target>/.

Seeds are small real inputs: tokens signed with the fuzz_jwt keys, request and response bodies
of docs/api.md, User-Agent headers of real browsers and clients, agent IPC streams
(docs/agent-api.md) and server config files. Targets that take parameters from the end of their
input (FuzzedDataProvider) get them appended here. Re-run after changing a harness's input
layout; the output is deterministic. Needs python3 and the openssl command (Ed25519 signing).
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# Must match fuzz_jwt.cpp.
NOW = 1_800_000_000
HS_SECRET = b"fuzz-hs256-secret-not-for-production-0123456789"
ED_PEM = {
    "ed1": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINX0CAAiJwU+09/uGtrhblhH22W1EFZ/nttld3V3lbmS\n-----END PRIVATE KEY-----\n",
    "ed2": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPAR4uXcytvnIFjQGLzLGa+jUJM/hnougoyL5/+8ImfQ\n-----END PRIVATE KEY-----\n",
}


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def ed25519_sign(kid: str, message: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        key, msg = os.path.join(d, "key.pem"), os.path.join(d, "msg")
        with open(key, "w") as f:
            f.write(ED_PEM[kid])
        with open(msg, "wb") as f:
            f.write(message)
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", msg],
                              check=True, capture_output=True).stdout


def jwt(header, payload, kid_for_key, alg) -> bytes:
    signing_input = b64url(compact(header)) + b"." + b64url(compact(payload))
    if alg == "HS256":
        sig = hmac.new(HS_SECRET, signing_input, hashlib.sha256).digest()
    elif alg == "EdDSA":
        sig = ed25519_sign(kid_for_key, signing_input)
    else:
        sig = b"x"
    return signing_input + b"." + b64url(sig)


def claims(**over):
    c = {"sub": "7d0c7a4e-5b7f-4a49-9a55-2f0c8c1d2e3f", "sid": "61595875-10a9-45e8-be3f-87e5a059bc33",
         "jti": "q3V9kqY0cJ0", "iss": "ehr-sessions", "aud": "ehr", "iat": NOW - 100, "exp": NOW + 800}
    c.update(over)
    return c


def fdp_trailer(values) -> bytes:
    """Bytes that FuzzedDataProvider's ConsumeIntegral* calls, in this order, read from the end.
    values: (value, byte count) pairs."""
    consumed = []
    for value, count in values:
        for k in reversed(range(count)):
            consumed.append((value >> (8 * k)) & 0xFF)
    return bytes(reversed(consumed))


def frame(obj) -> bytes:
    payload = compact(obj) if not isinstance(obj, bytes) else obj
    return struct.pack(">I", len(payload)) + payload


def ipc_seed(stream: bytes, limit_choice=0, cuts=()) -> bytes:
    # fuzz_ipc_frames.cpp: limit (0..2, 1 byte), cut count (0..16, 1 byte), cuts (2 bytes each).
    return stream + fdp_trailer([(limit_choice, 1), (len(cuts), 1)] + [(c, 2) for c in cuts])


def http_seed(request: bytes, small_limits=False, cuts=()) -> bytes:
    # fuzz_http_request.cpp: limits (bool, 1 byte), cut count (0..16, 1 byte), cuts (2 bytes each).
    return request + fdp_trailer([(1 if small_limits else 0, 1), (len(cuts), 1)] + [(c, 2) for c in cuts])


SESSION = {"id": "61595875-10a9-45e8-be3f-87e5a059bc33", "name": "", "createdAt": "2026-11-28T07:36:40.098Z",
           "lastActivityAt": "2026-11-28T07:36:40.098Z", "expiresAt": "2026-11-28T19:36:40.098Z",
           "ipAddress": "127.0.0.1", "location": "Local network",
           "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)",
           "deviceInfo": {"type": "mobile", "name": "iPhone", "os": "iOS 17.1", "browser": "Safari 17.1"},
           "isActive": True, "isCurrent": True}
USER = {"id": "7d0c7a4e-5b7f-4a49-9a55-2f0c8c1d2e3f", "email": "demo@example.org", "name": "Demo Clinician",
        "role": "user", "mfaEnabled": False}
REFRESH = "bW9ja3JlZnJlc2h0b2tlbm1vY2tyZWZyZXNodG9rZW5tb2NrcmVmcmVzaHRva2Vu"


def seeds():
    hs = lambda payload, **h: jwt({"alg": "HS256", "typ": "JWT", **h}, payload, None, "HS256")
    ed = lambda kid, payload: jwt({"alg": "EdDSA", "typ": "JWT", "kid": kid}, payload, kid, "EdDSA")
    access = hs(claims(), kid="hs1").decode()
    yield "fuzz_jwt", {
        "hs256.jwt": hs(claims(), kid="hs1"),
        "hs256-no-kid.jwt": hs(claims()),
        "hs256-aud-array.jwt": hs(claims(aud=["other", "ehr"]), kid="hs1"),
        "hs256-expired.jwt": hs(claims(iat=NOW - 2000, exp=NOW - 1000), kid="hs1"),
        "eddsa-ed1.jwt": ed("ed1", claims()),
        "eddsa-ed2.jwt": ed("ed2", claims()),
        "alg-none.jwt": jwt({"alg": "none", "typ": "JWT"}, claims(), None, "none"),
        "hs256-under-ed1.jwt": hs(claims(), kid="ed1"),
        "claims.json": compact(claims()),
        "claims-aud-array.json": compact(claims(aud=["ehr"], iat=NOW + 59)),
    }
    yield "fuzz_json_bodies", {
        "login.json": compact({"email": "demo@example.org", "password": "PASSWORD"}),
        "login-device.json": compact({"email": "nurse@hospital.example", "password": "correct horse battery",
                                      "deviceInfo": {"type": "desktop", "name": "ward-pc-12",
                                                     "os": "Debian GNU/Linux 12",
                                                     "browser": "EHR Sessions Agent 0.1.0"}}),
        "refresh.json": compact({"refreshToken": REFRESH}),
        "revoke-others.json": compact({"password": "PASSWORD"}),
        "rename.json": compact({"name": "Ward laptop"}),
        "login-response.json": compact({"success": True, "user": USER, "token": access, "accessToken": access,
                                        "refreshToken": REFRESH, "expiresIn": 900, "sessionId": SESSION["id"]}),
        "mfa-challenge.json": compact({"success": True, "requiresMFA": True, "mfaToken": "mfa.abc",
                                       "methods": ["totp", "backup_code"]}),
        "sessions.json": compact({"success": True, "sessions": [SESSION, dict(SESSION, id="b2", isCurrent=False,
                                  deviceInfo={"type": "desktop", "name": "Windows PC", "os": "Windows 10/11",
                                              "browser": "Chrome 120"})], "total": 2}),
        "error.json": compact({"error": "session_revoked", "message": "This session was signed out"}),
    }
    agents = [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240105.004) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Android 13; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0",
        "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
        "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/UQ1A.240105.004)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
        "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "curl/8.4.0",
        "python-requests/2.31.0",
        "EHR-Sessions-Agent/0.1.0 (Linux; Debian GNU/Linux 12; x86_64)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ]
    yield "fuzz_user_agent", {f"ua-{i:02d}.txt": a.encode() for i, a in enumerate(agents)}
    token_reply = {"type": "reply", "id": 1, "ok": True, "accessToken": access, "expiresAt": "2026-11-28T07:39:11.000Z"}
    status_reply = {"type": "reply", "id": 2, "ok": True, "state": "signed-in", "signedIn": True,
                    "serverUrl": "https://sessions.hospital.example", "email": "nurse@hospital.example",
                    "userId": USER["id"], "sessionId": SESSION["id"], "accessTokenExpiresAt": "2026-11-28T07:39:11.000Z",
                    "lastRefreshAt": "2026-11-28T07:24:11.000Z", "nextRefreshAt": "2026-11-28T07:36:11.000Z",
                    "lastError": "", "signedOutReason": "", "storage": "keychain"}
    yield "fuzz_ipc_frames", {
        "token-request": ipc_seed(frame({"type": "token", "id": 1, "minValidSeconds": 120})),
        "login-request": ipc_seed(frame({"type": "login", "id": 3, "email": "nurse@hospital.example",
                                         "password": "pw", "serverUrl": "https://sessions.hospital.example"})),
        "verify-mfa-request": ipc_seed(frame({"type": "verify-mfa", "id": 4, "code": "123456"})),
        "status-subscribe-cut": ipc_seed(frame({"type": "status", "id": 2}) + frame({"type": "subscribe", "id": 5}),
                                         cuts=(1, 3, 7, 30)),
        "token-reply": ipc_seed(frame(token_reply)),
        "status-reply": ipc_seed(frame(status_reply)),
        "error-reply": ipc_seed(frame({"type": "reply", "id": 1, "ok": False, "error": "session_revoked",
                                       "message": "signed out: session revoked"})),
        "login-reply-mfa": ipc_seed(frame({"type": "reply", "id": 3, "ok": True, "requiresMfa": True,
                                           "methods": ["totp", "backup_code"]})),
        "events": ipc_seed(frame({"type": "event", "event": "token-refreshed", "accessToken": access,
                                  "expiresAt": "2026-11-28T07:39:11.000Z"})
                           + frame({"type": "event", "event": "session-revoked", "sessionId": "b2", "current": False})
                           + frame({"type": "event", "event": "new-sign-in", "sessionId": "c3",
                                    "device": "Chrome 120 on Windows 10/11", "ipAddress": "10.1.2.3",
                                    "location": "Local network", "time": "2026-11-28T07:40:00.000Z"})
                           + frame({"type": "event", "event": "signed-out", "reason": "session_revoked",
                                    "message": "..."}), cuts=(2, 100, 5)),
        "oversize-after-good": ipc_seed(frame({"type": "status", "id": 9}) + struct.pack(">I", 65537) + b"{}"),
        "empty-frame": ipc_seed(struct.pack(">I", 0)),
        "small-limit": ipc_seed(frame(b'{"a":1}') + frame(b'{"type":"status"}'), limit_choice=2, cuts=(6,)),
    }
    yield "fuzz_config", {
        "embedded.env": b"# development: embedded SQLite\nHOST=127.0.0.1\nPORT=0\nEHRS_DATA_DIR=/var/lib/ehr-sessions\n"
                        b"LOG_FORMAT=text\n",
        "production.env": b"# /etc/ehr-sessions/server.env\n"
                          b"DATABASE_URL=postgres://ehrs:secret@db.internal:5432/ehrs?sslmode=require\n"
                          b"REDIS_URL=redis://:pw@cache.internal:6379/0\n"
                          b"JWT_SECRET=\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQ=\"\n"
                          b"export HOST=0.0.0.0\nPORT=8000\nWORKER_THREADS=4\nMAX_BODY_BYTES=65536\n"
                          b"ACCESS_TOKEN_TTL=900\nREFRESH_TOKEN_TTL=604800\nSESSION_IDLE_TIMEOUT=43200\n"
                          b"CLEANUP_INTERVAL=3600\nSESSION_RETENTION=604800\n"
                          b"TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.10, fd00::/8, ::1\n",
        "limits.env": b"RATE_LIMIT_LOGIN_ACCOUNT=10/900\nRATE_LIMIT_LOGIN_IP='100/60'\nRATE_LIMIT_MFA_ACCOUNT=5/300\n"
                      b"RATE_LIMIT_REFRESH_SESSION=0/1\n",
        "services.env": b"INTROSPECTION_CLIENTS=ehr-api:0123456789abcdef0123,billing:fedcba9876543210fedc\n"
                        b"CORS_ORIGINS=https://ehr.example.org,http://localhost:3000\nMETRICS_TOKEN=metrics-token\n"
                        b"JWT_ISSUER=https://sessions.hospital.example\nJWT_AUDIENCE=ehr\nJWT_KEYS_DIR=/var/lib/ehr-sessions/keys\n",
        "secret-file.env": b"DATABASE_URL=postgresql://ehrs@/ehrs\nJWT_SECRET_FILE=0123456789abcdef0123456789abcdef-from-file\n",
        "bad-line.env": b"PORT=8000\nthis line has no equals sign\n",
    }
    long_body = compact({"email": "demo@example.org", "password": "PASSWORD"})
    login = (b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
             b"User-Agent: curl/8.4.0\r\nContent-Length: " + str(len(long_body)).encode() + b"\r\n\r\n" + long_body)
    yield "fuzz_http_request", {
        "get-healthz": http_seed(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        "login": http_seed(login),
        "login-cut": http_seed(login, cuts=(1, 17, 40, 3)),
        "sessions-query": http_seed(b"GET /api/sessions?limit=10&x=%20y HTTP/1.1\r\nHost: h\r\n"
                                    b"Authorization: Bearer " + access.encode() + b"\r\nX-Request-Id: req-42_a.b\r\n\r\n"),
        "delete-encoded": http_seed(b"DELETE /api/sessions/b2%2F..%2Fx HTTP/1.1\r\nHost: h\r\nContent-Length: 23\r\n"
                                    b"\r\n{\"password\":\"PASSWORD\"}"),
        "chunked": http_seed(b"POST /api/sessions/refresh HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"10\r\n{\"refreshToken\":\r\n6\r\n\"abc\"}\r\n0\r\n\r\n"),
        "pipelined": http_seed(b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\nGET /readyz HTTP/1.1\r\nHost: h\r\n"
                               b"Connection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: h\r\n\r\n"),
        "http10": http_seed(b"GET /healthz HTTP/1.0\r\n\r\n"),
        "upgrade": http_seed(b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nxyz"),
        "small-limits-body": http_seed(login, small_limits=True),
        "folded-header": http_seed(b"GET / HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n  b\r\nX-Empty:\r\n\r\n"),
    }


def main():
    for target, files in seeds():
        out = os.path.join(CORPUS, target)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        for name, data in files.items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(files)} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
