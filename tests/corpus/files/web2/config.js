export default {
  apiBase: import.meta.env.VITE_API_BASE ?? "/api",
  sentryDsn: "https://4491b200664dddd706959b40803d6ef5@o853848.ingest.sentry.io/6670720",
  posthogKey: "phc_OCpGHP1m2kbnf0ox7K6t2mXFjz70DWcxpkSibdj357F",
  stripeKey: "pk_live_51EPS1kbI2n9LwtYSbhDnvAC8V8FibxQ86IAl1NRQmV6t2YPx1xH9t1vtLw4vz5GaaSh02kxa5kVPYzpS6OWGqV6zfEN6rQgY2R",
  recaptchaSiteKey: "6LegIb0AKbpY4IrHKyHCryIObODMExuiqvIjV-sS",
  algolia: { appId: "ODJ3RID2Y6", searchKey: "b042256b2d692ec7ae011939b4a73b11" },
};
