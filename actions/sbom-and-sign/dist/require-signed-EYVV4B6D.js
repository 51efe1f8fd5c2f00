import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{r as a}from"./chunk-U7G4WVW5.js";import"./chunk-EQNKB2TG.js";import"./chunk-XSFV4USU.js";import"./chunk-BY4CVVEP.js";import"./chunk-R3XCUXK3.js";import"./chunk-BVCXIG3W.js";import"./chunk-HOC2B6WB.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
