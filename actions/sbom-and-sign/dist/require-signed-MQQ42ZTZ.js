import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{r as a}from"./chunk-65ZP5SAZ.js";import"./chunk-EQNKB2TG.js";import"./chunk-B6W6TBQF.js";import"./chunk-BY4CVVEP.js";import"./chunk-FTBBYADN.js";import"./chunk-BVCXIG3W.js";import"./chunk-HOC2B6WB.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
