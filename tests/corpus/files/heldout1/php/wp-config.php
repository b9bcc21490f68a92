<?php
/** WordPress configuration — blog.mesh-example.net */

define( 'DB_NAME', 'wp_blog' );
define( 'DB_USER', 'wp_blog' );
define( 'DB_PASSWORD', '6mNrfpDSnscEB2PUp6cl' );
define( 'DB_HOST', 'mysql.mesh.internal' );
define( 'DB_CHARSET', 'utf8mb4' );

define( 'AUTH_KEY',         'bYmTf7UeK43vv1LMJCmadl3NpffBPtw3IDdvFuncq523h7kVmBtkrk0hZOHLT1Zg' );
define( 'SECURE_AUTH_KEY',  'put your unique phrase here' );

define( 'WP_DEBUG', false );
define( 'WP_MAIL_SMTP_PASS', getenv( 'SMTP_PASS' ) );

$table_prefix = 'wp_';

if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
