'use strict';

module.exports = {
  port: Number(process.env.PORT || 3000),
  mongo: {
    uri: 'mongodb+srv://mesh-app:mCIKwqkUK8b69bWSPI61adT5@cluster0.ab1cd.mongodb.net/mesh?retryWrites=true&w=majority',
    options: { maxPoolSize: 10 },
  },
  stripe: {
    secretKey:
      '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',
    publishableKey: 'pk_live_51dnOg0j5fyPKPtjt2SPz9CLwlZaTxXlyvEkxbfLNTnJ0yQHxgTzV1IBQCOm4faO1ZRZZdcucmrAi2sKZKxL8LbVpCZcDLoNUW4',
  },
  shopify: {
    shop: 'mesh-demo.myshopify.com',
    accessToken: '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',
    apiVersion: '2025-01',
  },
  github: {
    appId: 912345,
    privateKey: '-----BEGIN RSA PRIVATE KEY-----\nGfZmeZw0529ydDzMB41r757pbHNd3c7QqsAC7XQ4WJpbIvn17ZkQ3hPf/jpMpBVx\nhZnIO1Let/mOAfAdDHQ1U9f3ny4plmO9pZtCq+gBvp/qHcWnxn0SV/tde0BlIKD3\n4CACEagp9jVeqW4bPb9Vgnq+pKSCxrqPlKDp1OvRy+Y4UAZ2qk2Z+4m8gMijxiEv\nhKUszMHQcoapuYsAG6CpZQATTbAVwuRzKEI+45qpdrb5WvdbOrhJL2mPVm9r2EBf\nmj6GDtaZukR0j647RGlVfdkGr+aa3JdPBJqobG6rmFMWJn87hzgkRolMh1zKKZRu\nmPk7nC9YqBdwYGvxIZoo6mbBQxvLWg7bRQhbJwVeMRfn9gcgjEJ1DarnsHA3sztI\niZeSbTQR0KS7JDhH7rmawgA9sdOtEq0DCa6HMt8zkmsBuZv5H9XuT4r2Y+jmSjd3\nrcpAnZhcygEqVkVdTD47R7J/cFfi+fEUcI0FIBNTJrHFtNKOZz7PiTMviqpxQ2wk\nfDZi2Yg0mBdMW5BEKRKWmF6oQfKskUlgGjC/zWsi==\n-----END RSA PRIVATE KEY-----\n',
    webhookSecret: process.env.GH_WEBHOOK_SECRET,
  },
  auth: {
    tokenType: 'bearer',
    passwordResetPath: '/account/password/reset',
    passwordMinLength: 10,
  },
};
