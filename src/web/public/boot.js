import { prefetch } from './api.js'
import { pageData } from './prefetch.js'

// Loaded with `async`: starts the page's API calls before app.js and the pages have loaded.
prefetch(pageData(location.pathname))
