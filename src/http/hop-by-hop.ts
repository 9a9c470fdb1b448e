/** RFC 9110 §7.6.1 hop-by-hop headers, plus the non-standard ones proxies also drop. */
export const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];
