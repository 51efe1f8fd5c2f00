import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{r as a}from"./chunk-TUP6TZY4.js";import"./chunk-R4WGUSUM.js";import"./chunk-PO77Z7F3.js";import"./chunk-EQNKB2TG.js";import"./chunk-ZKXAHUUN.js";import"./chunk-H7AAQB53.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
