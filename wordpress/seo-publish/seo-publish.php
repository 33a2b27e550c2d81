<?php
/**
 * Plugin Name:       SEO Publish Companion
 * Description:       Lets the `seo` tool publish its location pages to this site: each page's title, meta description, canonical, robots and JSON-LD are stored as page meta and printed in the page's head. Touches only pages the tool created.
 * Version:           1.0.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * License:           MIT
 * Text Domain:       seo-publish
 *
 * What it does, and nothing more:
 * - registers the tool's page meta (`_seo_*`) for the REST API, writable by users who can edit pages;
 * - prints, for the tool's pages only, the <title>, meta description, Open Graph basics, the canonical
 *   link and the JSON-LD, and merges the tool's robots directives into WordPress's own robots meta;
 * - prints the tool's page body exactly as sent (no wpautop, texturize or shortcodes: it is already HTML)
 *   until a person edits the page in WordPress, after which WordPress renders it as usual;
 * - records a fingerprint of every page the tool writes, so the tool can tell when staff edited it;
 * - keeps the tool's noindex pages out of WordPress's own sitemap.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const SEO_PUBLISH_VERSION = '1.0.0';
const SEO_PUBLISH_HEADER  = 'x-seo-publish'; // sent by the tool on every write it makes

/** The meta keys the tool writes. `_seo_path` marks a page as the tool's. */
function seo_publish_keys() {
	return array( '_seo_path', '_seo_hash', '_seo_role', '_seo_title', '_seo_description',
		'_seo_canonical', '_seo_robots', '_seo_jsonld', '_seo_og_image' );
}

function seo_publish_sanitize( $value, $key ) {
	$value = is_string( $value ) ? $value : '';
	switch ( $key ) {
		case '_seo_jsonld':
			if ( '' === $value ) {
				return '';
			}
			$data = json_decode( $value, true );
			return is_array( $data ) ? $value : '';
		case '_seo_canonical':
		case '_seo_og_image':
			return esc_url_raw( $value, array( 'http', 'https' ) );
		case '_seo_robots':
			return preg_match( '/^[a-z0-9:,\- ]{0,200}$/', $value ) ? $value : '';
		case '_seo_path':
			return preg_match( '#^/([a-z0-9\-]+/)*$#', $value ) ? $value : '';
		case '_seo_hash':
			return preg_match( '/^[0-9a-f]{0,64}$/', $value ) ? $value : '';
		case '_seo_role':
			return in_array( $value, array( 'page', 'container', '' ), true ) ? $value : '';
		default: // title, description: one line of plain text
			return trim( preg_replace( '/[\r\n\t]+/', ' ', wp_strip_all_tags( $value ) ) );
	}
}

add_action(
	'init',
	function () {
		foreach ( seo_publish_keys() as $key ) {
			register_post_meta(
				'page',
				$key,
				array(
					'type'              => 'string',
					'single'            => true,
					'default'           => '',
					'show_in_rest'      => true,
					'sanitize_callback' => function ( $value ) use ( $key ) {
						return seo_publish_sanitize( $value, $key );
					},
					'auth_callback'     => function () {
						return current_user_can( 'edit_pages' );
					},
				)
			);
		}
	}
);

/** sha256 of what a page shows: its title and body as stored. */
function seo_publish_fingerprint( $post ) {
	return hash( 'sha256', $post->post_title . "\0" . $post->post_content );
}

function seo_publish_is_tools( $post ) {
	return $post && 'page' === $post->post_type && '' !== (string) get_post_meta( $post->ID, '_seo_path', true );
}

/** True when the page was changed by anyone but the tool since the tool last wrote it. */
function seo_publish_edited( $post ) {
	$written = (string) get_post_meta( $post->ID, '_seo_written', true );
	return '' === $written || ! hash_equals( $written, seo_publish_fingerprint( $post ) );
}

// The tool's own writes carry a header; only they update the fingerprint (and the modified time it
// saw, which the page list compares without reading every page's content).
add_action(
	'rest_after_insert_page',
	function ( $post, $request ) {
		if ( $request->get_header( SEO_PUBLISH_HEADER ) && seo_publish_is_tools( $post ) ) {
			clean_post_cache( $post->ID );
			$post = get_post( $post->ID );
			update_post_meta( $post->ID, '_seo_written', seo_publish_fingerprint( $post ) );
			update_post_meta( $post->ID, '_seo_written_at', $post->post_modified_gmt );
		}
	},
	10,
	2
);

// Read-only REST field: the plugin's version and whether staff edited the page.
add_action(
	'rest_api_init',
	function () {
		register_rest_field(
			'page',
			'seo',
			array(
				'get_callback' => function ( $data ) {
					$post = get_post( $data['id'] );
					if ( ! seo_publish_is_tools( $post ) ) {
						return null;
					}
					return array(
						'version' => SEO_PUBLISH_VERSION,
						'edited'  => seo_publish_edited( $post ),
					);
				},
				'schema'       => array(
					'description' => 'The seo tool: plugin version and whether the page was edited in WordPress.',
					'type'        => array( 'object', 'null' ),
					'context'     => array( 'view', 'edit' ),
					'readonly'    => true,
				),
			)
		);
	}
);

// What the tool checks before it writes anything: the plugin is active, the permalinks are pretty,
// and what the publishing user may do.
add_action(
	'rest_api_init',
	function () {
		register_rest_route(
			'seo-publish/v1',
			'/status',
			array(
				'methods'             => 'GET',
				'permission_callback' => function () {
					return current_user_can( 'edit_pages' );
				},
				'callback'            => function () {
					return array(
						'version'         => SEO_PUBLISH_VERSION,
						'wordpress'       => get_bloginfo( 'version' ),
						'home'            => home_url( '/' ),
						'permalinks'      => (string) get_option( 'permalink_structure' ),
						'blog_public'     => (bool) get_option( 'blog_public' ),
						'show_on_front'   => (string) get_option( 'show_on_front' ),
						'page_on_front'   => (int) get_option( 'page_on_front' ),
						'publish_pages'   => current_user_can( 'publish_pages' ),
						'manage_options'  => current_user_can( 'manage_options' ),
						'unfiltered_html' => current_user_can( 'unfiltered_html' ),
					);
				},
			)
		);
	}
);

// Every page, compactly, 1,000 at a time: what the tool needs to plan a publish (where each page
// sits, whether it is the tool's, what the tool last sent, whether staff edited it). The core
// endpoint gives 100 at a time with much more work per page.
add_action(
	'rest_api_init',
	function () {
		register_rest_route(
			'seo-publish/v1',
			'/pages',
			array(
				'methods'             => 'GET',
				'permission_callback' => function () {
					return current_user_can( 'edit_pages' );
				},
				'args'                => array(
					'page'     => array(
						'type'    => 'integer',
						'minimum' => 1,
						'default' => 1,
					),
					'per_page' => array(
						'type'    => 'integer',
						'minimum' => 1,
						'maximum' => 1000,
						'default' => 1000,
					),
				),
				'callback'            => 'seo_publish_list_pages',
			)
		);
	}
);

function seo_publish_list_pages( $request ) {
	global $wpdb;
	$per      = (int) $request['per_page'];
	$offset   = ( (int) $request['page'] - 1 ) * $per;
	$statuses = "'publish','future','draft','pending','private','trash'";
	$total    = (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->posts} WHERE post_type = 'page' AND post_status IN ($statuses)" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	$rows     = $wpdb->get_results(
		$wpdb->prepare(
			"SELECT p.ID, p.post_name, p.post_parent, p.post_status, p.post_modified_gmt,
				MAX(CASE WHEN m.meta_key = '_seo_path' THEN m.meta_value END) AS seo_path,
				MAX(CASE WHEN m.meta_key = '_seo_hash' THEN m.meta_value END) AS seo_hash,
				MAX(CASE WHEN m.meta_key = '_seo_role' THEN m.meta_value END) AS seo_role,
				MAX(CASE WHEN m.meta_key = '_seo_written_at' THEN m.meta_value END) AS seo_written_at,
				MAX(CASE WHEN m.meta_key = '_seo_written' THEN m.meta_value END) AS seo_written
			FROM (SELECT ID, post_name, post_parent, post_status, post_modified_gmt FROM {$wpdb->posts}
				WHERE post_type = 'page' AND post_status IN ($statuses) ORDER BY ID LIMIT %d OFFSET %d) p
			LEFT JOIN {$wpdb->postmeta} m ON m.post_id = p.ID
				AND m.meta_key IN ('_seo_path', '_seo_hash', '_seo_role', '_seo_written_at', '_seo_written')
			GROUP BY p.ID ORDER BY p.ID", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			$per,
			$offset
		)
	);
	// Saved since the tool wrote it (WordPress moved its modified time): then, and only then, the
	// content is read and compared with the fingerprint of what the tool wrote.
	$saved = array();
	foreach ( $rows as $row ) {
		if ( '' !== (string) $row->seo_path && (string) $row->seo_written_at !== (string) $row->post_modified_gmt ) {
			$saved[] = (int) $row->ID;
		}
	}
	$prints = array();
	if ( $saved ) {
		$ids = implode( ',', array_map( 'intval', $saved ) );
		foreach ( $wpdb->get_results( "SELECT ID, post_title, post_content FROM {$wpdb->posts} WHERE ID IN ($ids)" ) as $post ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			$prints[ (int) $post->ID ] = seo_publish_fingerprint( $post );
		}
	}
	$pages = array();
	foreach ( $rows as $row ) {
		$item = array(
			'id'     => (int) $row->ID,
			'slug'   => (string) $row->post_name,
			'parent' => (int) $row->post_parent,
			'status' => (string) $row->post_status,
			'meta'   => array(
				'_seo_path' => (string) $row->seo_path,
				'_seo_hash' => (string) $row->seo_hash,
				'_seo_role' => (string) $row->seo_role,
			),
		);
		if ( '' !== (string) $row->seo_path ) {
			$id          = (int) $row->ID;
			$written     = (string) $row->seo_written;
			$item['seo'] = array(
				'version' => SEO_PUBLISH_VERSION,
				'edited'  => isset( $prints[ $id ] ) && ( '' === $written || ! hash_equals( $written, $prints[ $id ] ) ),
			);
		}
		$pages[] = $item;
	}
	return array(
		'pages'       => $pages,
		'total'       => $total,
		'total_pages' => max( 1, (int) ceil( $total / $per ) ),
	);
}

// The pages' pictures and social images, kept in wp-content/uploads/seo-publish/ at the paths the
// build gave them (images/..., parker/og.png): only image and font files, names checked, each
// file's SHA-256 checked on arrival. The list of what the tool uploaded is an option.
function seo_publish_files_dir() {
	$uploads = wp_upload_dir( null, false );
	return array( trailingslashit( $uploads['basedir'] ) . 'seo-publish/', trailingslashit( $uploads['baseurl'] ) . 'seo-publish/' );
}

function seo_publish_file_ok( $path ) {
	return is_string( $path ) && strlen( $path ) <= 300
		&& preg_match( '#^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9._-]*)*\.(png|jpe?g|webp|gif|avif|woff2|ico)$#', $path )
		&& false === strpos( $path, '..' );
}

add_action(
	'rest_api_init',
	function () {
		$can = function () {
			return current_user_can( 'edit_pages' ) && current_user_can( 'upload_files' );
		};
		register_rest_route(
			'seo-publish/v1',
			'/files',
			array(
				array(
					'methods'             => 'GET',
					'permission_callback' => $can,
					'callback'            => function () {
						list( , $base_url ) = seo_publish_files_dir();
						return array(
							'base'  => $base_url,
							'files' => (object) get_option( 'seo_publish_files', array() ),
						);
					},
				),
				array(
					'methods'             => 'POST',
					'permission_callback' => $can,
					'callback'            => 'seo_publish_put_files',
				),
			)
		);
	}
);

function seo_publish_put_files( $request ) {
	$files = $request->get_param( 'files' );
	if ( ! is_array( $files ) || count( $files ) > 200 ) {
		return new WP_Error( 'seo_publish_files', 'files: a list of at most 200 files', array( 'status' => 400 ) );
	}
	list( $dir ) = seo_publish_files_dir();
	$known       = get_option( 'seo_publish_files', array() );
	$done        = array();
	foreach ( $files as $file ) {
		$path = isset( $file['path'] ) ? $file['path'] : '';
		$sha  = isset( $file['sha256'] ) ? (string) $file['sha256'] : '';
		$data = isset( $file['data'] ) ? base64_decode( (string) $file['data'], true ) : false;
		if ( ! seo_publish_file_ok( $path ) || false === $data || strlen( $data ) > 10 * 1024 * 1024
			|| ! hash_equals( $sha, hash( 'sha256', $data ) ) ) {
			return new WP_Error( 'seo_publish_files', 'refused file ' . sanitize_text_field( (string) $path ), array( 'status' => 400 ) );
		}
		$target = $dir . $path;
		if ( ! wp_mkdir_p( dirname( $target ) ) ) {
			return new WP_Error( 'seo_publish_files', 'cannot create the uploads folder', array( 'status' => 500 ) );
		}
		$tmp = $target . '.tmp-' . wp_generate_password( 8, false );
		if ( false === file_put_contents( $tmp, $data ) || ! rename( $tmp, $target ) ) { // phpcs:ignore WordPress.WP.AlternativeFunctions
			@unlink( $tmp ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
			return new WP_Error( 'seo_publish_files', 'cannot write ' . $path, array( 'status' => 500 ) );
		}
		$known[ $path ] = $sha;
		$done[]         = $path;
	}
	update_option( 'seo_publish_files', $known, false );
	return array( 'written' => $done );
}

// `?seo_managed=1` lists only the tool's pages.
add_filter(
	'rest_page_collection_params',
	function ( $params ) {
		$params['seo_managed'] = array(
			'description' => 'Only pages the seo tool created.',
			'type'        => 'boolean',
		);
		return $params;
	}
);
add_filter(
	'rest_page_query',
	function ( $args, $request ) {
		if ( $request['seo_managed'] ) {
			$args['meta_query']   = isset( $args['meta_query'] ) ? $args['meta_query'] : array();
			$args['meta_query'][] = array(
				'key'     => '_seo_path',
				'value'   => '',
				'compare' => '!=',
			);
		}
		return $args;
	},
	10,
	2
);

/** The page being shown, when it is one of the tool's. */
function seo_publish_current() {
	if ( ! is_singular( 'page' ) ) {
		return null;
	}
	$post = get_queried_object();
	return ( $post instanceof WP_Post && seo_publish_is_tools( $post ) ) ? $post : null;
}

function seo_publish_meta( $post, $key ) {
	return (string) get_post_meta( $post->ID, $key, true );
}

function seo_publish_text( $value ) {
	return htmlspecialchars( $value, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8', true );
}

// <title>: as sent. A non-empty answer here is printed as it is by both classic and block themes
// (WordPress would otherwise texturize the quotes in it and append the site name).
add_filter(
	'pre_get_document_title',
	function ( $title ) {
		$post = seo_publish_current();
		return ( $post && '' !== seo_publish_meta( $post, '_seo_title' ) ) ? seo_publish_text( seo_publish_meta( $post, '_seo_title' ) ) : $title;
	},
	99
);

add_filter(
	'wp_title',
	function ( $title ) {
		$post = seo_publish_current();
		return ( $post && '' !== seo_publish_meta( $post, '_seo_title' ) ) ? seo_publish_text( seo_publish_meta( $post, '_seo_title' ) ) : $title;
	},
	99
);

add_action(
	'wp_head',
	function () {
		$post = seo_publish_current();
		if ( ! $post ) {
			return;
		}
		$description = seo_publish_meta( $post, '_seo_description' );
		$title       = seo_publish_meta( $post, '_seo_title' );
		$canonical   = seo_publish_meta( $post, '_seo_canonical' );
		if ( '' !== $description ) {
			echo '<meta name="description" content="' . seo_publish_text( $description ) . "\">\n";
			echo '<meta property="og:description" content="' . seo_publish_text( $description ) . "\">\n";
		}
		if ( '' !== $title ) {
			echo '<meta property="og:title" content="' . seo_publish_text( $title ) . "\">\n";
		}
		if ( '' !== $canonical ) {
			echo '<meta property="og:url" content="' . esc_url( $canonical ) . "\">\n";
		}
		$image = seo_publish_meta( $post, '_seo_og_image' );
		if ( '' !== $image ) {
			echo '<meta property="og:image" content="' . esc_url( $image ) . "\">\n";
		}
		$raw  = seo_publish_meta( $post, '_seo_jsonld' );
		$data = '' !== $raw ? json_decode( $raw, true ) : null;
		if ( is_array( $data ) ) {
			// Re-encoded so that nothing stored can close the script element.
			$json = wp_json_encode( $data, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_HEX_TAG | JSON_HEX_AMP );
			echo '<script type="application/ld+json">' . $json . "</script>\n";
		}
	},
	2
);

add_filter(
	'get_canonical_url',
	function ( $url, $post ) {
		if ( seo_publish_is_tools( $post ) ) {
			$canonical = seo_publish_meta( $post, '_seo_canonical' );
			if ( '' !== $canonical ) {
				return $canonical;
			}
		}
		return $url;
	},
	10,
	2
);

// Robots: the tool's directives merged into WordPress's own robots meta (one tag, not two). A site set
// to "Discourage search engines" keeps its noindex: the tool reports it instead of overriding it.
add_filter(
	'wp_robots',
	function ( $robots ) {
		$post = seo_publish_current();
		if ( ! $post ) {
			return $robots;
		}
		$wanted = array_filter( array_map( 'trim', explode( ',', seo_publish_meta( $post, '_seo_robots' ) ) ) );
		foreach ( $wanted as $directive ) {
			if ( 'noindex' === $directive || 'nofollow' === $directive ) {
				unset( $robots[ substr( $directive, 2 ) ] );
				$robots[ $directive ] = true;
			} elseif ( ( 'index' === $directive || 'follow' === $directive ) && empty( $robots[ 'no' . $directive ] ) ) {
				$robots[ $directive ] = true;
			}
		}
		return $robots;
	},
	20
);

// The body exactly as the tool sent it, while nobody has edited the page in WordPress.
add_filter(
	'the_content',
	function ( $content ) {
		$post    = get_post();
		$current = seo_publish_current();
		if ( ! $post || ! $current || $post->ID !== $current->ID || seo_publish_edited( $post ) ) {
			return $content;
		}
		return '<div class="seo-main" data-seo-main="' . esc_attr( SEO_PUBLISH_VERSION ) . '">' . $post->post_content . '</div>';
	},
	PHP_INT_MAX
);

// WordPress's own sitemap (wp-sitemap.xml): the tool's noindex pages stay out of it.
add_filter(
	'wp_sitemaps_posts_query_args',
	function ( $args, $post_type ) {
		if ( 'page' !== $post_type ) {
			return $args;
		}
		$args['meta_query']   = isset( $args['meta_query'] ) ? $args['meta_query'] : array();
		$args['meta_query'][] = array(
			'relation' => 'OR',
			array(
				'key'     => '_seo_robots',
				'compare' => 'NOT EXISTS',
			),
			array(
				'key'     => '_seo_robots',
				'value'   => 'noindex',
				'compare' => 'NOT LIKE',
			),
		);
		return $args;
	},
	10,
	2
);
