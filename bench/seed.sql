-- SPDX-License-Identifier: Apache-2.0
-- Bulk seed for bench/run, entirely server-side (no rows cross the wire). Variables (psql -v):
-- now (ms since the epoch), users (total, including u0 created through the CLI), sessions,
-- heavy and per_heavy (users u1..u<heavy> get per_heavy live sessions each, for the revoke run;
-- the rest are spread evenly over the other users, one in ten of those already signed out).
-- Every seeded user gets u0's argon2id hash, so all share the benchmark password.
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';
BEGIN;
INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at)
SELECT md5('bench-user-' || n)::uuid, 'u' || n || '@bench.example', 'Bench user ' || n, h.password_hash, 'user',
       :now, :now
FROM generate_series(1, :users - 1) AS n,
     (SELECT password_hash FROM users WHERE email = 'u0@bench.example') AS h;

INSERT INTO user_sessions (id, user_id, access_token_hash, refresh_token_hash, prev_refresh_token_hash,
                           rotation_counter, rotated_at, expires_at, created_at, last_activity_at, revoked_at,
                           revoke_reason, is_active, ip_address, user_agent, device_info, device_type, device_name,
                           device_os, device_browser, name, metadata)
SELECT gen_random_uuid(),
       md5('bench-user-' || s.un)::uuid,
       encode(sha256(convert_to('bench-access-' || s.g, 'UTF8')), 'hex'),
       encode(sha256(convert_to('bench-refresh-' || s.g, 'UTF8')), 'hex'),
       NULL,
       0,
       s.created,
       s.created + 604800000,                                  -- REFRESH_TOKEN_TTL (7 days)
       s.created,
       s.created + (s.g % 60) * 1000,                          -- within the last hour
       CASE WHEN s.revoked THEN :now - 1000 END,
       CASE WHEN s.revoked THEN 'logout' END,
       NOT s.revoked,
       '10.' || (s.g % 250) || '.' || (s.g / 250 % 250) || '.' || (s.g % 200 + 1),
       'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
       '{"type": "desktop", "name": "Chrome on Windows", "os": "Windows 10", "browser": "Chrome 120"}'::jsonb,
       'desktop', 'Chrome on Windows', 'Windows 10', 'Chrome 120',
       NULL,
       NULL
FROM (SELECT g,
             CASE WHEN g <= :heavy * :per_heavy THEN (g - 1) / :per_heavy + 1
                  ELSE :heavy + 1 + (g - :heavy * :per_heavy - 1) % (:users - 1 - :heavy) END AS un,
             (g > :heavy * :per_heavy AND g % 10 = 0) AS revoked,
             :now - (g % 3600) * 1000 AS created
      FROM generate_series(1, :sessions) AS g) AS s;
COMMIT;
VACUUM ANALYZE users;
VACUUM ANALYZE user_sessions;
