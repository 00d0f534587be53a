// The ledger's settings, read from the validated configuration.
import type { Config } from './config.ts';
import type { LedgerSettings } from './ledger/context.ts';

export function ledgerSettings(config: Config): LedgerSettings {
  return {
    zone: config.ORG_TIMEZONE,
    anchorDay: config.CYCLE_ANCHOR_DAY,
    proration: config.PRORATION,
    graceMs: config.LATE_EVENT_GRACE_HOURS * 3_600_000,
    thresholds: config.ALERT_THRESHOLDS,
  };
}
