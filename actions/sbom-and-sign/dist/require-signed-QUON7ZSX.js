import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{r as a}from"./chunk-7P5GI7VK.js";import"./chunk-EQNKB2TG.js";import"./chunk-4FMMUTXY.js";import"./chunk-BY4CVVEP.js";import"./chunk-TRAFWYZT.js";import"./chunk-BVCXIG3W.js";import"./chunk-HOC2B6WB.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
