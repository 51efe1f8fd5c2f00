import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{a as r}from"./chunk-5WJNG32R.js";import{i as a}from"./chunk-FXPIA7HB.js";import"./chunk-Y52KRMXY.js";var o=new r;a(o.raw("cosign-private-key"),o.raw("cosign-password"));await import("./action-P6MQFCBI.js");
