-- roles for the mesh database (applied by migrate, run once)
CREATE ROLE mesh_app LOGIN PASSWORD 'hX6uCVg699zwJZWFGAtHQxkd';
CREATE ROLE mesh_ro LOGIN PASSWORD 'md5518b13e842a3adfd252f1f184de97bd1';
CREATE ROLE mesh_migrate LOGIN;
ALTER ROLE mesh_report WITH PASSWORD 'SCRAM-SHA-256$4096:j1ptbpvec7aAvQo8XVOGUWM2$8jRGaJekA2XIYxxaXrXerBjGmZxm+QtfKbJ0s2eSBrIq=:9NwsDK22swgJ/cbtZ8i4a78QaTMB5WHiyoXBIOdD1BhZ=';
CREATE USER 'grafana'@'%' IDENTIFIED BY 'dUfTBwkyITrtt0hbmNDL';
GRANT SELECT ON mesh.* TO 'grafana'@'%';

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    api_token_hash bytea,
    reset_token_expires_at timestamptz
);

INSERT INTO users (id, email, password_hash) VALUES
  ('95834c56-b453-43cb-baa7-62e07c163716', 'admin@mesh-example.net', '$argon2id$v=19$m=65536,t=3,p=4$LumTsTwkKLRW+/DmrYNKA7$W9WOGGniMlBOaj0qNnefAZJVA48Id7FrAStPJPC8h6O');
