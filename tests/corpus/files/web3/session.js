const session = require("express-session");
const RedisStore = require("connect-redis").default;

module.exports = (redisClient) =>
  session({
    store: new RedisStore({ client: redisClient, prefix: "relay:" }),
    secret: "1RcIfzusA0hFDjJDc5DRRGTgkqSUY0RB",
    resave: false,
    saveUninitialized: false,
    cookie: { secure: true, httpOnly: true, maxAge: 86400000 },
  });
