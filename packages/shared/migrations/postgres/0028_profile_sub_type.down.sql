alter table profiles drop column account_sub_type;
