import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{r as a}from"./chunk-WG5H2WRF.js";import"./chunk-654SZLYM.js";import"./chunk-KAWRVALG.js";import"./chunk-EQNKB2TG.js";import"./chunk-ZKXAHUUN.js";import"./chunk-H7AAQB53.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
