import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import{a,b,c,d,e,f,g,h,i}from"./chunk-FN2ZHVAI.js";import"./chunk-HOC2B6WB.js";import"./chunk-Y52KRMXY.js";i();export{b as Headers,h as HttpClient,e as HttpClientError,f as HttpClientResponse,a as HttpCodes,c as MediaTypes,d as getProxyUrl,g as isHttps};
