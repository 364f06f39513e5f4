-- SPDX-License-Identifier: Apache-2.0
-- The groups a user belongs to (e.g. nurses, physicians), as IT names them: set by `user import`
-- (issue 18, moving users over) for the per-group policies of issue 14. Comma-separated, each
-- name lower-case [a-z0-9._-], sorted and unique; empty for none.
ALTER TABLE users ADD COLUMN user_groups text NOT NULL DEFAULT '';
