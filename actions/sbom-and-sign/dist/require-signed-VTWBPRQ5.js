import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{u as a}from"./chunk-FOSN2UBN.js";import"./chunk-EQNKB2TG.js";import"./chunk-GTJLSCOW.js";import"./chunk-BY4CVVEP.js";import"./chunk-BZCV6B55.js";import"./chunk-BVCXIG3W.js";import"./chunk-HOC2B6WB.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
