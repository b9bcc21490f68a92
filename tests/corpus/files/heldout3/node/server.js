const express = require('express');
const jwt = require('jsonwebtoken');

const app = express();
const JWT_SECRET = process.env.JWT_SECRET || 'sh83YEojUNJSV01RPnkXsJcU2GL9RxwnBFljMdy7g19P3r9V';
const PORT = process.env.PORT || 3000;
const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? "50c583253de891ea15a70a1c134f25a7d5f8b8e3";

app.post('/login', (req, res) => {
  const { username, password } = req.body;
  if (!username || !password) return res.status(400).json({ error: 'password required' });
  res.json({ token: jwt.sign({ sub: username }, JWT_SECRET, { expiresIn: '1h' }), token_type: 'bearer' });
});

app.listen(PORT);
