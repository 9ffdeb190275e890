/**
 * An export the sandbox remembers. Kept apart from the routes so that state.ts can
 * hold it without importing them: they import state.ts.
 */

export type ExportType = 'campaigns' | 'adGroups' | 'ads' | 'targets';

export interface ExportFilters {
  adProductFilter: string[];
  stateFilter: string[];
  negativeFilter?: boolean[];
  targetLevelFilter?: string[];
  targetTypeFilter?: string[];
}

export interface ExportRecord {
  exportId: string;
  type: ExportType;
  profileIndex: number;
  createdAt: number;
  durationMs: number;
  filters: ExportFilters;
  failed: boolean;
  file?: Buffer;
  rows?: number;
  /** The file being built in the background, as Amazon builds it between request and completion. */
  building?: Promise<void>;
}
