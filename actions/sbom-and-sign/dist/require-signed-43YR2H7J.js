import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{r as a}from"./chunk-Z6DMF7CE.js";import"./chunk-RV6HRSSI.js";import"./chunk-HEEUT655.js";import"./chunk-EQNKB2TG.js";import"./chunk-MUS5NP7E.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
