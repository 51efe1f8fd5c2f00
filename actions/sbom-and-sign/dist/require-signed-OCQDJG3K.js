import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{u as a}from"./chunk-MOHAXOVY.js";import"./chunk-EQNKB2TG.js";import"./chunk-TPCD5OG3.js";import"./chunk-BY4CVVEP.js";import"./chunk-WEWIOBCM.js";import"./chunk-BVCXIG3W.js";import"./chunk-HOC2B6WB.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
