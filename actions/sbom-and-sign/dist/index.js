import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{f as a}from"./chunk-BY4CVVEP.js";import{e as r,s as t}from"./chunk-WJTC2XCM.js";import"./chunk-BVCXIG3W.js";import"./chunk-HOC2B6WB.js";import"./chunk-Y52KRMXY.js";t();var o=new r;a(o.raw("cosign-private-key"),o.raw("cosign-password"));await import("./action-E4H45W4A.js");
