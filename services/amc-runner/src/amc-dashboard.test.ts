import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amcDashboard, panelSql } from './amc-dashboard.ts';

test("a panel reads its workflow's newest window, numbers as numbers, whatever the column names hold", () => {
  const sql = panelSql({
    instanceId: "inst'1",
    workflowId: 'wf',
    columns: [
      { name: 'campaign', numeric: false },
      { name: 'odd `name` \\ here', numeric: true },
    ],
  });
  assert.match(sql, /FROM amc_results_latest WHERE instance_id = 'inst\\'1' AND workflow_id = 'wf'/);
  assert.match(
    sql,
    /\(time_window_start, time_window_end\) IN \(SELECT time_window_start, time_window_end FROM amc_execution_loads FINAL WHERE instance_id = 'inst\\'1' AND workflow_id = 'wf' ORDER BY time_window_end DESC, time_window_start ASC LIMIT 1\)/,
  );
  assert.match(sql, /visitParamExtractString\(row, 'campaign'\) AS `campaign`/);
  assert.match(
    sql,
    /toFloat64OrZero\(replaceAll\(visitParamExtractRaw\(row, 'odd `name` \\\\ here'\), '"', ''\)\) AS `odd \\`name\\` \\\\ here`/,
  );
  assert.match(sql, / ORDER BY row_number$/);
});

test('one table panel per workflow, laid out two abreast, on the ClickHouse data source', () => {
  const d = amcDashboard([
    { instanceId: 'i', workflowId: 'a', columns: [] },
    { instanceId: 'i', workflowId: 'b', columns: [] },
    { instanceId: 'j', workflowId: 'a', columns: [] },
  ]);
  assert.equal(d.uid, 'adsync-amc');
  assert.deepEqual(
    d.panels.map((p) => [p.title, p.gridPos.x, p.gridPos.y]),
    [
      ['a (i)', 0, 0],
      ['b (i)', 12, 0],
      ['a (j)', 0, 9],
    ],
  );
  assert.ok(d.panels.every((p) => p.type === 'table' && p.datasource.uid === 'adsync-clickhouse'));
});
