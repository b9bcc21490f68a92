CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email TEXT NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,
    api_token_hash CHAR(64),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO users (id, email, password_hash) VALUES
    ('375f2178-4470-44d8-9340-aaff47b200b9', 'alpha@mesh.example', '$2b$12$G9g6nhNFLRJHhxeuJSM1rbfJmMuxhPXBUo/UMhpoDlm6NLjEgpfFk'),
    ('e1004578-f5b4-4617-85d7-1916fa88f268', 'beta@mesh.example', '$argon2id$v=19$m=65536,t=3,p=4$nWn38+sJawcROMTBOJ81zx$nB18Tfs9Kv9YUKTeq5Fg37e8pqCrk9X7HzZ7i/uGvlX');

CREATE ROLE reporting LOGIN PASSWORD 'Tx60Y7X2fL1MfReRJYZy';
