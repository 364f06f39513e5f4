-- SPDX-License-Identifier: Apache-2.0
-- Device fields in columns (issue 11, point 5). Mirrors postgres/0006_device_columns.sql.
ALTER TABLE user_sessions ADD COLUMN device_type TEXT;
ALTER TABLE user_sessions ADD COLUMN device_name TEXT;
ALTER TABLE user_sessions ADD COLUMN device_os TEXT;
ALTER TABLE user_sessions ADD COLUMN device_browser TEXT;
UPDATE user_sessions
   SET device_type = json_extract(device_info, '$.type'),
       device_name = json_extract(device_info, '$.name'),
       device_os = json_extract(device_info, '$.os'),
       device_browser = json_extract(device_info, '$.browser')
 WHERE json_valid(device_info) AND json_type(device_info) = 'object';
