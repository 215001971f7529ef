/**
 * Entry point. /admin is the operator console, a lazy chunk of its own (the chat page never
 * loads it); everything else is the chat app: create the stores once and render it inside their
 * provider. The app's stylesheet is shared: the console builds on its colours and controls.
 */
import { lazy } from 'solid-js';
import { render } from 'solid-js/web';
import { App } from './App';
import { StoreProvider, createStores } from './stores/context';
import './styles.css';

const AdminApp = lazy(() => import('./admin/AdminApp'));

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');

const isConsole = location.pathname === '/admin' || location.pathname.startsWith('/admin/');

render(() => {
  if (isConsole) return <AdminApp />;
  const stores = createStores();
  return (
    <StoreProvider stores={stores}>
      <App />
    </StoreProvider>
  );
}, root);
