DROP TABLE IF EXISTS dsp_metrics_daily
