-- SPDX-License-Identifier: Apache-2.0
-- The account event stream (GET /api/sessions/events) reads a user's events from the audit log
-- by id: this partial index holds only the rows that are account events (SessionEvents).
CREATE INDEX audit_events_account_stream ON audit_events (user_id, id)
    WHERE event IN ('login_success', 'session_renamed', 'session_revoked', 'logout', 'refresh_reuse_detected',
                    'sessions_revoked_all_others', 'sessions_ended', 'password_changed', 'mfa_enabled',
                    'mfa_disabled', 'mfa_reset');
