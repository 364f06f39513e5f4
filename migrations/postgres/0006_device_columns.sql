-- SPDX-License-Identifier: Apache-2.0
-- What the session list shows of a device, in columns (issue 11, point 5): listing sessions no
-- longer parses each row's device_info JSON. device_info stays, written as before, for tools and
-- reports that read the replaced system's column.
ALTER TABLE user_sessions ADD COLUMN device_type text;
ALTER TABLE user_sessions ADD COLUMN device_name text;
ALTER TABLE user_sessions ADD COLUMN device_os text;
ALTER TABLE user_sessions ADD COLUMN device_browser text;
UPDATE user_sessions
   SET device_type = device_info ->> 'type',
       device_name = device_info ->> 'name',
       device_os = device_info ->> 'os',
       device_browser = device_info ->> 'browser'
 WHERE device_info IS NOT NULL AND jsonb_typeof(device_info) = 'object';
