-- Consent bound to the browser that started it: the first browser to open the consent link
-- gets a random nonce in an http-only cookie, and only its hash is kept here; the PKCE
-- verifier of the consent request is kept sealed, for the code exchange.
alter table oauth_states add column browser_hash text;
alter table oauth_states add column code_verifier_sealed text;
alter table oauth_states add column opened_at timestamptz;
