import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{a as r}from"./chunk-K5GMYA2Q.js";import{i as a}from"./chunk-GBORF37G.js";import"./chunk-Y52KRMXY.js";var o=new r;a(o.raw("cosign-private-key"),o.raw("cosign-password"));await import("./action-FRLL7ZGP.js");
