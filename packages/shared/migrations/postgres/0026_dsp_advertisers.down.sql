drop table dsp_advertisers;
