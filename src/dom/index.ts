export { bindGrid, type GridBinding, type GridOptions } from './grid.js';
export { hookAnalytics, ga4Event } from './analytics.js';
