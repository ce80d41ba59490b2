// The older majors installed beside the current ones under npm aliases (express4, koa2), typed as
// the current ones: the tests use nothing that differs between the two.

declare module 'express4' {
  import express = require('express');
  export = express;
}

declare module 'koa2' {
  import Koa = require('koa');
  export = Koa;
}
