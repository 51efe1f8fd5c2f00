import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{u as a}from"./chunk-RVVEGLYH.js";import"./chunk-EQNKB2TG.js";import"./chunk-42ZFM7KK.js";import"./chunk-BY4CVVEP.js";import"./chunk-WJTC2XCM.js";import"./chunk-BVCXIG3W.js";import"./chunk-HOC2B6WB.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
