-- SPDX-License-Identifier: Apache-2.0
-- Issue 14, point 3: session policies that IT sets per user group and per device class
-- (`ehr-sessions-server policy set`), and what each session got from them at sign-in. NULL in a
-- policy column: this rule does not set that value. docs/workstation-policy.md has the rule that
-- combines several (the strictest value of each setting wins). Mirrors sqlite/0011.
CREATE TABLE session_policies (
    scope_kind                 text NOT NULL CHECK (scope_kind IN ('group', 'device_class')),
    scope_name                 text NOT NULL,
    idle_timeout_seconds       integer,
    absolute_lifetime_seconds  integer,
    end_on_lock                boolean,
    max_sessions               integer,
    on_limit                   text CHECK (on_limit IN ('end_oldest', 'refuse')),
    mfa_required               boolean,
    updated_at                 bigint NOT NULL,
    PRIMARY KEY (scope_kind, scope_name)
);
-- The session's own idle timeout (NULL: SESSION_IDLE_TIMEOUT, for sessions from before this
-- migration), its device class, and the resolved policy handed to its agent (JSON).
ALTER TABLE user_sessions ADD COLUMN idle_timeout_ms bigint;
ALTER TABLE user_sessions ADD COLUMN device_class text NOT NULL DEFAULT 'personal';
ALTER TABLE user_sessions ADD COLUMN policy text;
