alter table oauth_states drop column opened_at;
alter table oauth_states drop column code_verifier_sealed;
alter table oauth_states drop column browser_hash;
