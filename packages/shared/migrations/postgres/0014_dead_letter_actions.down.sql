drop table dead_letter_actions;
