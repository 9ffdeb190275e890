drop table dsp_entities;
