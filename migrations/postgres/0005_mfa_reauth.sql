-- SPDX-License-Identifier: Apache-2.0
-- MFA hardening (issue 12, points 5, 7, 8).
-- Consecutive wrong second factors: at MFA_CONSECUTIVE_FAILURE_CAP the second step is locked until
-- IT runs `ehr-sessions-server user mfa-reset`. A success sets it back to 0.
ALTER TABLE users ADD COLUMN mfa_failed_count integer NOT NULL DEFAULT 0;
-- When 2FA was last turned on, off or reset: /api/auth/me shows it so devices can tell the user.
ALTER TABLE users ADD COLUMN mfa_changed_at bigint;
-- Enrolments started before setup asked for the password are dropped: whoever started them may
-- have held only an access token. Finishing one now needs a new /mfa/setup with the password.
UPDATE users SET totp_pending_secret_enc = NULL WHERE totp_pending_secret_enc IS NOT NULL;
-- user_backup_codes.code_hash now also holds salted entries ("v2$<salt>$<hmac>", see
-- server/mfa/BackupCodes.h); older unsalted entries stay valid until used.
