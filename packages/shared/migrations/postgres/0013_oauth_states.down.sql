drop table oauth_states;
