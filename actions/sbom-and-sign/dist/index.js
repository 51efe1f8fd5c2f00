import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{e as r,m as a}from"./chunk-PO77Z7F3.js";import"./chunk-ZKXAHUUN.js";import"./chunk-Y52KRMXY.js";var o=new r;a(o.raw("cosign-private-key"),o.raw("cosign-password"));await import("./action-PIL3NY3D.js");
