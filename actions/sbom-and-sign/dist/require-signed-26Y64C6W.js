import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{r as a}from"./chunk-KOR7DZHF.js";import"./chunk-7YZGOMQ4.js";import"./chunk-GQCCILZL.js";import"./chunk-EQNKB2TG.js";import"./chunk-MUS5NP7E.js";import"./chunk-Y52KRMXY.js";export{a as requireSignedImages};
