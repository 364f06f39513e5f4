-- SPDX-License-Identifier: Apache-2.0
-- Issue 14, point 4: shared workstations (nurse stations) with PIN switch-user.
-- user_sessions.parked_at: set while the clinician's session is parked by "switch user" (NULL:
-- not parked); its refresh token alone does not refresh it and its access tokens are refused.
-- user_sessions.workstation_id: the stable, non-secret workstation identifier the agent sends
-- (docs/workstation-policy.md, "Shared workstations"); NULL for other sessions.
ALTER TABLE user_sessions ADD COLUMN parked_at bigint;
ALTER TABLE user_sessions ADD COLUMN workstation_id text;
-- One PIN per session for its shift: only its argon2id hash, valid until valid_until (ms), the
-- wrong PINs entered since it was set. Deleted with its session.
CREATE TABLE workstation_pins (
    session_id     text PRIMARY KEY REFERENCES user_sessions (id) ON DELETE CASCADE,
    user_id        text NOT NULL,
    workstation_id text NOT NULL,
    pin_hash       text NOT NULL,
    set_at         bigint NOT NULL,
    valid_until    bigint NOT NULL,
    failures       integer NOT NULL DEFAULT 0
);
CREATE INDEX workstation_pins_workstation ON workstation_pins (workstation_id);
-- The policy settings of shared workstations (`policy set --shift-window --pin-max-failures`):
-- NULL: this rule does not set it.
ALTER TABLE session_policies ADD COLUMN shift_window_seconds integer;
ALTER TABLE session_policies ADD COLUMN pin_max_failures integer;
