export { bindGrid, type GridBinding, type GridOptions } from './grid.js';
